import { hostname } from "node:os";
import type { Logger } from "../log/logger.ts";
import { readSmallFile } from "../process/small-file.ts";
import type { Counts, LimitsMode } from "./counts.ts";
import { type FleetLink, fleetLink } from "./fleet-link.ts";
import { redisCounts } from "./redis-counts.ts";
import type { Revocations } from "./revocations.ts";

/** How long start-up waits for the store before it serves in the degraded mode meanwhile. */
const FIRST_CONNECT_WAIT_MS = 2000;

/** The settings of `--state` (as ServerConfig has them). */
export interface StateSettings {
  readonly state: string | undefined;
  readonly statePasswordFile: string | undefined;
  readonly stateCa: string | undefined;
  readonly stateLease: number;
  readonly stateFallback: "local" | "refuse";
}

/** What `--state` shares with the fleet: the counts behind the limits, and the fleet's channel. */
export interface SharedState {
  readonly counts: Counts;
  readonly fleet: FleetLink;
  close(): Promise<void>;
}

/**
 * The URL to reach the store with, its password put in from `--state-password-file` or
 * `SOCKET2WEB_STATE_PASSWORD`, never the URL (a process list would show it); a file that cannot be
 * read is an error naming it.
 */
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

/** This process's name in the fleet: workers of one instance count as instances of the fleet. */
export const instanceName = (): string => `${hostname()}:${process.pid}`;

/** The state shared through `--state`, or undefined without it. */
export async function openSharedState(
  config: StateSettings,
  /** `SOCKET2WEB_STATE_PASSWORD`, used when no password file is named. */
  statePassword: string | undefined,
  revocations: Revocations,
  logger: Logger,
  onMode?: (mode: LimitsMode) => void,
): Promise<SharedState | undefined> {
  if (config.state === undefined) return undefined;
  const url = stateUrl(config.state, config.statePasswordFile, statePassword);
  const ca = stateCa(config.stateCa);
  const instance = instanceName();
  const prefix = "socket2web";
  const counts = redisCounts({
    url,
    ca,
    instance,
    leaseMs: config.stateLease * 1000,
    prefix,
    fallback: config.stateFallback,
    logger,
    ...(onMode ? { onMode } : {}),
  });
  const fleet = fleetLink({ url, ca, instance, prefix, logger, revocations });
  await Promise.race([counts.connected(), Bun.sleep(FIRST_CONNECT_WAIT_MS)]);
  return {
    counts,
    fleet,
    async close() {
      fleet.close();
      await counts.close();
    },
  };
}
