import { UsageError } from "../../config/usage-error.ts";
import { LOG_LEVEL_NAMES, type LogLevelName } from "../../log/logger.ts";
import type { FieldValues, HandshakeForm } from "../index.ts";
import { type HostPort, parseHostPort } from "./host-port-arg.ts";
import { describe } from "./known-flags.ts";
import { repeatedFlag } from "./repeated-flag.ts";
import { parseTarget } from "./target-arg.ts";

/** How a client command reaches the proxy, and what it asks the proxy to reach. */
export interface ProxyEndpointOptions {
  server: URL;
  protocol: string;
  /** The protocol's handshake fields, from `--target` and `--field`. */
  fields: FieldValues;
  /** The target as the user wrote it, for messages and log lines. */
  targetLabel: string;
  token: string | undefined;
  /** Extra headers for the upgrade request, `Origin` included (`--origin`, `--header`). */
  headers: Record<string, string>;
  /** PEM file of a private CA for `wss://`. */
  ca: string | undefined;
  /** Accept any certificate (testing only). */
  insecure: boolean;
  /** Milliseconds to reach `connected`. */
  timeoutMs: number;
  /**
   * Milliseconds of silence from the target, after the local side ended, before closing;
   * 0 waits for the target to close.
   */
  lingerMs: number;
  handshake: HandshakeForm;
}

export interface ForwardOptions extends ProxyEndpointOptions {
  listen: HostPort;
  logLevel: LogLevelName;
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

/** Headers the WebSocket handshake itself sets: a user header must not replace them. */
const UPGRADE_HEADERS = new Set(["connection", "upgrade", "host", "content-length"]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `--header "Name: value"` (repeatable) and `--origin URL`, as one header map. */
export function parseHeaders(
  headerFlags: readonly string[],
  origin: unknown,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const flag of headerFlags) {
    const colon = flag.indexOf(":");
    const name = colon > 0 ? flag.slice(0, colon).trim() : "";
    const value = flag.slice(colon + 1).trim();
    if (!HEADER_NAME.test(name) || /[\r\n\0]/.test(value)) {
      throw new UsageError(`--header expects "Name: value", got ${JSON.stringify(flag)}`);
    }
    const lower = name.toLowerCase();
    if (UPGRADE_HEADERS.has(lower) || lower.startsWith("sec-websocket-")) {
      throw new UsageError(`--header cannot set ${name}: the WebSocket handshake sets it`);
    }
    headers[name] = value;
  }
  const originValue = optionalString("origin", origin);
  if (originValue !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(originValue);
    } catch {}
    if (parsed === undefined || parsed.origin === "null") {
      throw new UsageError(
        `--origin expects an origin such as https://app.example.com, got ${JSON.stringify(originValue)}`,
      );
    }
    for (const name of Object.keys(headers))
      if (name.toLowerCase() === "origin") delete headers[name];
    headers.Origin = parsed.origin;
  }
  return headers;
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

/** How to reach the server, without a target: what `socks` shares with `forward`. */
export type ServerEndpointOptions = Omit<
  ProxyEndpointOptions,
  "protocol" | "fields" | "targetLabel"
>;

export function toProxyEndpointOptions(
  args: RawArgs,
  env: Record<string, string | undefined>,
  rawArgs: readonly string[] = [],
): ProxyEndpointOptions {
  // --server first, then --target: the order a user reads the command line in.
  parseServerUrl(args.server);
  const target = parseTarget(
    args.target,
    optionalString("protocol", args.protocol),
    repeatedFlag(rawArgs, "field"),
  );
  return {
    ...toServerEndpointOptions(args, env, rawArgs),
    protocol: target.protocol,
    fields: target.fields,
    targetLabel: target.label,
  };
}

export function toServerEndpointOptions(
  args: RawArgs,
  env: Record<string, string | undefined>,
  rawArgs: readonly string[] = [],
): ServerEndpointOptions {
  rejectPositionals(args);
  const server = parseServerUrl(args.server);
  const token = optionalString("token", args.token) ?? (env[TOKEN_ENV] || undefined);
  const headers = parseHeaders(repeatedFlag(rawArgs, "header"), args.origin);
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
  const handshake = args["greeting-handshake"] === true ? "message" : "url";
  return { server, token, headers, ca, insecure, timeoutMs, lingerMs, handshake };
}

/** `--log-level`, default info. */
export function parseLogLevel(value: unknown): LogLevelName {
  const level = value ?? "info";
  if (!LOG_LEVEL_NAMES.includes(level as LogLevelName)) {
    throw new UsageError(
      `--log-level expects one of ${LOG_LEVEL_NAMES.join(", ")}, got ${describe(level)}`,
    );
  }
  return level as LogLevelName;
}

export function toForwardOptions(
  args: RawArgs,
  env: Record<string, string | undefined>,
  rawArgs: readonly string[] = [],
): ForwardOptions {
  // --listen first: it is the flag a user of `forward` is most likely to get wrong.
  const listen = parseHostPort("listen", args.listen, { allowPortZero: true });
  const logLevel = parseLogLevel(args["log-level"]);
  return { ...toProxyEndpointOptions(args, env, rawArgs), listen, logLevel };
}

/** The citty flags shared by `forward` and `connect`. */
export const proxyEndpointFlags = {
  server: {
    type: "string",
    description: "Socket2Web server URL, ws:// or wss://",
    valueHint: "ws://host:port",
  },
  target: {
    type: "string",
    description: "Target to reach through the proxy: host:port, [v6]:port, or unix:/path",
    valueHint: "target",
  },
  protocol: {
    type: "string",
    description: "Protocol adapter from the server's greeting (default tcp; unix for unix:/path)",
    valueHint: "name",
  },
  field: {
    type: "string",
    description:
      "Another handshake field of the protocol, e.g. server_name=db.internal (repeatable)",
    valueHint: "name=value",
  },
  token: {
    type: "string",
    description: `Credential for the handshake (or ${TOKEN_ENV})`,
    valueHint: "token",
  },
  origin: {
    type: "string",
    description: "Origin header for the upgrade, for servers with --allow-origin",
    valueHint: "url",
  },
  header: {
    type: "string",
    description: 'Extra upgrade header, e.g. "Authorization: Bearer TOKEN" (repeatable)',
    valueHint: "name: value",
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
    description: `After the local side ends, close once the target has been quiet this long; 0 waits for the target to close (default ${DEFAULT_LINGER_SECONDS})`,
    valueHint: "seconds",
  },
  "greeting-handshake": {
    type: "boolean",
    description:
      "Wait for the server's greeting and send the handshake as a message (the URL form saves a round trip)",
  },
} as const;

export const logLevelFlag = {
  "log-level": {
    type: "string",
    description: "trace, debug, info, warn or error (default info)",
    valueHint: "level",
  },
} as const;
