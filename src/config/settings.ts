import { isIP } from "node:net";
import { describe, parseWholeNumber } from "../cli/flags.ts";
import { UsageError } from "../cli/usage-error.ts";
import { LOG_LEVEL_NAMES, type LogLevelName } from "../log/logger.ts";
import { MAX_HANDSHAKE_BYTES } from "../protocol/constants.ts";
import { DEFAULT_CONFIG as D } from "../server/config.ts";

export type SourceKind = "flag" | "env" | "file";

interface Common {
  readonly description: string;
  /** Where it may be set; default: everywhere. */
  readonly sources?: readonly SourceKind[];
  /** Masked by --print-config. */
  readonly secret?: boolean;
}

/** One value: the last one given wins. `parse` throws a UsageError naming `label`. */
export interface ValueSetting<T> extends Common {
  readonly kind: "value";
  readonly hint: string;
  readonly default: T;
  parse(text: string, label: string): T;
}

/** Repeatable (`--allow A --allow B`), comma-separated in the environment, an array in the file. */
export interface ListSetting extends Common {
  readonly kind: "list";
  readonly hint: string;
}

/** On or off: `--x`/`--no-x`, `true`/`false` in the file, 1/0, true/false, yes/no in the environment. */
export interface SwitchSetting extends Common {
  readonly kind: "switch";
}

export type Setting = ValueSetting<unknown> | ListSetting | SwitchSetting;

const value = <T>(setting: Omit<ValueSetting<T>, "kind">): ValueSetting<T> => ({
  kind: "value",
  ...setting,
});
const list = (setting: Omit<ListSetting, "kind">): ListSetting => ({ kind: "list", ...setting });
const toggle = (setting: Omit<SwitchSetting, "kind">): SwitchSetting => ({
  kind: "switch",
  ...setting,
});

const DAY = 86_400;
const YEAR = 365 * DAY;

const whole =
  (min: number, max: number, note = "") =>
  (text: string, label: string) =>
    parseWholeNumber(label, text, min, max, note);

/** A path or secret: any non-empty text. */
const optionalText = (text: string, label: string): string | undefined => {
  if (text === "") throw new UsageError(`${label} expects a value, got no value`);
  return text;
};

/** A path or secret with no default: unset unless given. */
const optional = (
  setting: Omit<ValueSetting<string | undefined>, "kind" | "default" | "parse">,
): ValueSetting<string | undefined> =>
  value({ ...setting, default: undefined, parse: optionalText });

function parseListenAddress(text: string, label: string): string {
  // A host name would be resolved by the listener, and only localhost resolves without the network.
  if (isIP(text) !== 0 || text === "localhost") return text;
  throw new UsageError(
    `${label} expects an IPv4 or IPv6 address (or localhost), got ${describe(text)}`,
  );
}

function parseLogLevel(text: string, label: string): LogLevelName {
  if ((LOG_LEVEL_NAMES as readonly string[]).includes(text)) return text as LogLevelName;
  throw new UsageError(
    `${label} expects one of ${LOG_LEVEL_NAMES.join(", ")}, got ${describe(text)}`,
  );
}

const RESERVED_PATHS = ["/healthz", "/readyz", "/metrics"];

function parseWispPrefix(text: string, label: string): string {
  const valid = /^\/([A-Za-z0-9._~-]+\/)+$/.test(text);
  if (!valid || RESERVED_PATHS.some((path) => `${path}/`.startsWith(text))) {
    throw new UsageError(
      `${label} expects a path prefix such as /wisp/ (segments of letters, digits, . _ ~ -, ending in /), got ${describe(text)}`,
    );
  }
  return text;
}

/**
 * Every server setting, in --help order. The flag is `--KEY`, the environment variable
 * SOCKET2WEB_KEY (upper case, `-` as `_`), the config file key KEY.
 */
export const SETTINGS = {
  config: optional({
    hint: "file",
    description: "TOML file of settings (flags and environment override it)",
    sources: ["flag", "env"],
  }),
  "print-config": toggle({
    description: "Print the effective configuration (secrets masked) and exit",
    sources: ["flag"],
  }),
  ip: value({
    hint: "address",
    description: "Address to listen on (an IP address or localhost)",
    default: D.ip,
    parse: parseListenAddress,
  }),
  port: value({
    hint: "port",
    description: "Port to listen on (below 1024 needs root or CAP_NET_BIND_SERVICE)",
    default: D.port,
    parse: whole(1, 65535),
  }),
  "log-level": value({
    hint: "level",
    description: "trace, debug, info, warn or error",
    default: D.logLevel,
    parse: parseLogLevel,
  }),
  timeout: value({
    hint: "seconds",
    description: "Seconds for a client to send its handshake",
    default: D.timeout,
    parse: whole(1, DAY, " (seconds)"),
  }),
  "max-connections": value({
    hint: "count",
    description: "Most WebSocket connections at once",
    default: D.maxConnections,
    parse: whole(1, 1_000_000),
  }),
  "max-lifetime": value({
    hint: "seconds",
    description: "Seconds a connection may last, 0 for no limit",
    default: D.maxLifetime,
    parse: whole(0, YEAR, " (seconds, 0 for no limit)"),
  }),
  "connect-timeout": value({
    hint: "seconds",
    description: "Seconds for the target to accept",
    default: D.connectTimeout,
    parse: whole(1, 3600, " (seconds)"),
  }),
  "idle-timeout": value({
    hint: "seconds",
    description: "Seconds without a byte either way before closing, 0 for never",
    default: D.idleTimeout,
    parse: whole(0, DAY, " (seconds, 0 for never)"),
  }),
  "max-message-size": value({
    hint: "bytes",
    description: "Largest client message in bytes",
    default: D.maxMessageSize,
    parse: whole(MAX_HANDSHAKE_BYTES, 2 ** 30, " (bytes)"),
  }),
  allow: list({
    hint: "rule",
    description: "Allow targets: CIDR, address or host name, optional :PORT[-PORT] (repeatable)",
  }),
  deny: list({ hint: "rule", description: "Deny targets; deny wins over allow (repeatable)" }),
  "allow-origin": list({
    hint: "origin",
    description:
      "Allow pages from this Origin, e.g. https://app.example.com or https://*.example.com (repeatable)",
  }),
  "require-origin": toggle({ description: "Refuse upgrades without an Origin header" }),
  "auth-token-file": optional({
    hint: "file",
    description: "Require a credential: static tokens, one per line",
  }),
  "auth-tokens": optional({
    hint: "tokens",
    description: "Static tokens, comma-separated (environment only)",
    sources: ["env"],
    secret: true,
  }),
  "ticket-secret": optional({
    hint: "secret",
    description: "Require a credential: HS256 ticket secret, 32 bytes or more",
    secret: true,
  }),
  "ticket-secret-file": optional({
    hint: "file",
    description: "Read the HS256 ticket secret from this file",
  }),
  "ticket-public-key": optional({
    hint: "file",
    description: "Require a credential: ES256 or EdDSA ticket public key (PEM)",
  }),
  "tls-cert": optional({
    hint: "file",
    description: "Serve wss:// with this PEM certificate chain (reloaded on SIGHUP)",
  }),
  "tls-key": optional({
    hint: "file",
    description: "PEM private key for --tls-cert",
  }),
  "max-connections-per-ip": value({
    hint: "count",
    description: "Most connections at once from one client address (IPv6: one /64), 0 for no limit",
    default: D.maxConnectionsPerIp,
    parse: whole(0, 1_000_000, " (0 for no limit)"),
  }),
  "rate-limit": value({
    hint: "per-second",
    description: "Upgrades per second from one client address, 0 for no limit",
    default: D.rateLimit,
    parse: whole(0, 1_000_000, " (per second, 0 for no limit)"),
  }),
  "rate-limit-burst": value({
    hint: "count",
    description: "Upgrades one client address may make at once, 0 for the --rate-limit value",
    default: D.rateLimitBurst,
    parse: whole(0, 1_000_000, " (0 for the --rate-limit value)"),
  }),
  "trust-proxy": list({
    hint: "cidr",
    description: "Believe X-Forwarded-For from peers in this range (repeatable)",
  }),
  workers: value({
    hint: "count",
    description:
      "Processes serving the port together (SO_REUSEPORT), 0 for one per CPU core; limits apply per process",
    default: D.workers,
    parse: whole(0, 64, " (0 for one per CPU core)"),
  }),
  metrics: toggle({
    description:
      "Serve Prometheus metrics at GET /metrics (on the same port: restrict who reaches it)",
  }),
  wisp: value<string | undefined>({
    hint: "prefix",
    description: "Serve Wisp (and wsproxy) under this path prefix, e.g. /wisp/",
    default: undefined,
    parse: parseWispPrefix,
  }),
  "wisp-max-streams": value({
    hint: "count",
    description: "Most Wisp streams at once on one connection",
    default: D.wispMaxStreams,
    parse: whole(1, 65_535),
  }),
} as const satisfies Record<string, Setting>;

export type SettingKey = keyof typeof SETTINGS;

type ValueOf<S> =
  S extends ValueSetting<infer T> ? T : S extends ListSetting ? readonly string[] : boolean;

/** Every setting's effective value. */
export type Settings = { readonly [K in SettingKey]: ValueOf<(typeof SETTINGS)[K]> };

export function envName(key: string): string {
  return `SOCKET2WEB_${key.toUpperCase().replaceAll("-", "_")}`;
}

export function allowedIn(setting: Setting, source: SourceKind): boolean {
  return setting.sources === undefined || setting.sources.includes(source);
}
