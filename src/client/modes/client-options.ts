import { describe } from "../../cli/flags.ts";
import { UsageError } from "../../cli/usage-error.ts";
import { LOG_LEVEL_NAMES, type LogLevelName } from "../../log/logger.ts";
import { type HostPort, parseHostPort } from "./host-port-arg.ts";

/** Where and how a client command reaches the proxy. */
export interface ProxyEndpointOptions {
  server: URL;
  target: HostPort;
  protocol: string;
  token: string | undefined;
  /** PEM file of a private CA for `wss://`. */
  ca: string | undefined;
  /** Accept any certificate (testing only). */
  insecure: boolean;
  /** Milliseconds to reach `connected`. */
  timeoutMs: number;
  /** Milliseconds of silence from the target, after the local side ended, before closing. */
  lingerMs: number;
  logLevel: LogLevelName;
}

export interface ForwardOptions extends ProxyEndpointOptions {
  listen: HostPort;
}

/** The raw flag values as citty hands them over. */
export type RawArgs = Record<string, unknown>;

export const TOKEN_ENV = "SOCKET2WEB_TOKEN";

/** Seconds after the local side ends before a quiet connection is closed. */
export const DEFAULT_LINGER_SECONDS = 1;
export const DEFAULT_CLIENT_TIMEOUT_SECONDS = 30;

const SECONDS = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/** Seconds as a decimal (`0.5`), up to `max`, returned in milliseconds. */
export function parseSeconds(flag: string, value: unknown, max: number): number {
  if (typeof value !== "string" || !SECONDS.test(value) || Number(value) > max) {
    throw new UsageError(
      `--${flag} expects seconds from 0 to ${max} (decimals allowed), got ${describe(value)}`,
    );
  }
  return Math.round(Number(value) * 1000);
}

export function parseServerUrl(value: unknown): URL {
  const expected = "a ws:// or wss:// URL";
  if (typeof value !== "string" || value === "")
    throw new UsageError(`--server expects ${expected}, got no value`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--server expects ${expected}, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new UsageError(`--server expects ${expected}, got ${JSON.stringify(value)}`);
  }
  return url;
}

function optionalString(flag: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "")
    throw new UsageError(`--${flag} expects a value, got no value`);
  return value;
}

function rejectPositionals(args: RawArgs): void {
  const extra = Array.isArray(args._) ? args._ : [];
  if (extra.length > 0)
    throw new UsageError(`unexpected argument ${JSON.stringify(String(extra[0]))}`);
}

export function toProxyEndpointOptions(
  args: RawArgs,
  env: Record<string, string | undefined>,
): ProxyEndpointOptions {
  rejectPositionals(args);
  const server = parseServerUrl(args.server);
  const target = parseHostPort("target", args.target);
  const protocol = optionalString("protocol", args.protocol) ?? "tcp";
  const token = optionalString("token", args.token) ?? (env[TOKEN_ENV] || undefined);
  const ca = optionalString("ca", args.ca);
  const insecure = args.insecure === true;
  if ((ca !== undefined || insecure) && server.protocol !== "wss:") {
    throw new UsageError(`--${ca !== undefined ? "ca" : "insecure"} needs a wss:// --server`);
  }
  const timeoutMs = parseSeconds(
    "timeout",
    args.timeout ?? String(DEFAULT_CLIENT_TIMEOUT_SECONDS),
    3600,
  );
  const lingerMs = parseSeconds("linger", args.linger ?? String(DEFAULT_LINGER_SECONDS), 3600);
  const level = args["log-level"] ?? "info";
  if (!LOG_LEVEL_NAMES.includes(level as LogLevelName)) {
    throw new UsageError(
      `--log-level expects one of ${LOG_LEVEL_NAMES.join(", ")}, got ${describe(level)}`,
    );
  }
  return {
    server,
    target,
    protocol,
    token,
    ca,
    insecure,
    timeoutMs,
    lingerMs,
    logLevel: level as LogLevelName,
  };
}

export function toForwardOptions(
  args: RawArgs,
  env: Record<string, string | undefined>,
): ForwardOptions {
  // --listen first: it is the flag a user of `forward` is most likely to get wrong.
  const listen = parseHostPort("listen", args.listen, { allowPortZero: true });
  return { ...toProxyEndpointOptions(args, env), listen };
}

/** The citty flags shared by `forward` and `connect`. */
export const proxyEndpointFlags = {
  server: {
    type: "string",
    description: "Socket2Web server URL (ws:// or wss://)",
    valueHint: "ws://host:port",
  },
  target: {
    type: "string",
    description: "Target to reach through the proxy",
    valueHint: "host:port",
  },
  protocol: { type: "string", description: "Protocol adapter (default tcp)", valueHint: "name" },
  token: {
    type: "string",
    description: `Credential for the handshake (or ${TOKEN_ENV})`,
    valueHint: "token",
  },
  ca: { type: "string", description: "PEM file of a private CA, for wss://", valueHint: "file" },
  insecure: { type: "boolean", description: "Accept any TLS certificate (testing only)" },
  timeout: {
    type: "string",
    description: `Seconds to wait for the connected status (default ${DEFAULT_CLIENT_TIMEOUT_SECONDS})`,
    valueHint: "seconds",
  },
  linger: {
    type: "string",
    description: `After the local side ends, close once the target has been quiet this long (default ${DEFAULT_LINGER_SECONDS})`,
    valueHint: "seconds",
  },
  "log-level": {
    type: "string",
    description: "trace, debug, info, warn or error (default info)",
    valueHint: "level",
  },
} as const;
