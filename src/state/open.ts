import { hostname } from "node:os";
import type { Logger } from "../log/logger.ts";
import { readSmallFile } from "../process/small-file.ts";
import type { AddressLimits, LimitsMode } from "./address-limits.ts";
import { redisAddressLimits } from "./redis-limits.ts";

/** How long start-up waits for the store before it serves in the degraded mode meanwhile. */
const FIRST_CONNECT_WAIT_MS = 2000;

/** The settings of `--state` and of the limits it shares (as ServerConfig has them). */
export interface StateSettings {
  readonly state: string | undefined;
  readonly statePasswordFile: string | undefined;
  readonly stateCa: string | undefined;
  readonly stateLease: number;
  readonly stateFallback: "local" | "refuse";
  readonly rateLimit: number;
  readonly rateLimitBurst: number;
  readonly maxConnectionsPerIp: number;
}

/**
 * The address limits shared through `--state`, or undefined without it. The password comes from
 * `--state-password-file` or `SOCKET2WEB_STATE_PASSWORD`, never the URL (a process list would show
 * it); a file that cannot be read is an error naming it.
 */
/** The URL to reach the store with, its password put in from a file or the environment. */
export function stateUrl(
  state: string,
  passwordFile: string | undefined,
  password: string | undefined,
): string {
  const url = new URL(state);
  const secret =
    passwordFile !== undefined
      ? readSmallFile(passwordFile, "--state-password-file").trim()
      : password;
  if (secret !== undefined && secret !== "") url.password = encodeURIComponent(secret);
  return url.toString();
}

/** The PEM CAs of `--state-ca`, read once. */
export function stateCa(file: string | undefined): string | undefined {
  return file !== undefined ? readSmallFile(file, "--state-ca") : undefined;
}

export async function openAddressLimits(
  config: StateSettings,
  /** `SOCKET2WEB_STATE_PASSWORD`, used when no password file is named. */
  statePassword: string | undefined,
  logger: Logger,
  onMode?: (mode: LimitsMode) => void,
): Promise<(AddressLimits & { connected(): Promise<void> }) | undefined> {
  if (config.state === undefined) return undefined;
  const url = stateUrl(config.state, config.statePasswordFile, statePassword);
  const ca = stateCa(config.stateCa);
  const limits = redisAddressLimits(
    {
      rate: config.rateLimit,
      burst: config.rateLimitBurst,
      maxPerAddress: config.maxConnectionsPerIp,
    },
    {
      url,
      ca,
      // One name per process: workers of one instance count as instances of the fleet.
      instance: `${hostname()}:${process.pid}`,
      leaseMs: config.stateLease * 1000,
      prefix: "socket2web",
      fallback: config.stateFallback,
      logger,
      ...(onMode ? { onMode } : {}),
    },
  );
  await Promise.race([limits.connected(), Bun.sleep(FIRST_CONNECT_WAIT_MS)]);
  return limits;
}
