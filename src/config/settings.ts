import { isIP } from "node:net";
import { type CaptureTotal, DEFAULT_CAPTURE_MAX_TOTAL } from "../capture/budget.ts";
import { DEFAULT_CAPTURE_MAX_BYTES, MIN_CAPTURE_BYTES } from "../capture/session-capture.ts";
import { LOG_FORMATS, LOG_LEVEL_NAMES, type LogFormat, type LogLevelName } from "../log/logger.ts";
import { parseListenAddress as parseHostAndPort } from "../metrics/listen-address.ts";
import { PROXY_PROTOCOL_SETTINGS, type ProxyProtocolSetting } from "../net/proxy-protocol.ts";
import { DEFAULT_MAX_MESSAGE_SIZE, MAX_HANDSHAKE_BYTES } from "../protocol/constants.ts";
import { describe, parseWholeNumber } from "./numbers.ts";
import { UsageError } from "./usage-error.ts";

export type SourceKind = "flag" | "env" | "file";

interface Common {
  readonly description: string;
  /** Where it may be set; default: everywhere. */
  readonly sources?: readonly SourceKind[];
  /** Masked by --print-config, and kept out of the ServerConfig. */
  readonly secret?: boolean;
  /**
   * Guards access (a credential, a rule, TLS): given but empty (`SOCKET2WEB_TICKET_SECRET=""`,
   * `allow = []`) is an error instead of "not set", so a missing secret cannot open the proxy.
   */
  readonly security?: boolean;
}

/** One value: the last one given wins. `parse` throws a UsageError naming `label`. */
export interface ValueSetting<T> extends Common {
  readonly kind: "value";
  readonly hint: string;
  readonly default: T;
  parse(text: string, label: string): T;
  /** What the server gets, when it is not the value itself (`--workers 0` is one per core). */
  effective?(value: T): T;
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

function parseCaptureTotal(text: string, label: string): CaptureTotal {
  const percent = /^([1-9][0-9]{0,2})%$/.exec(text);
  if (percent && Number(percent[1]) <= 100) return `${Number(percent[1])}%`;
  if (/^[0-9]+$/.test(text)) {
    return parseWholeNumber(label, text, MIN_CAPTURE_BYTES, 2 ** 50, " (bytes), or a percentage");
  }
  throw new UsageError(
    `${label} expects a number of bytes (at least ${MIN_CAPTURE_BYTES}) or a percentage from 1% to 100%, got ${describe(text)}`,
  );
}

function parseListenAddress(text: string, label: string): string {
  // A host name would be resolved by the listener, and only localhost resolves without the network.
  if (isIP(text) !== 0 || text === "localhost") return text;
  throw new UsageError(
    `${label} expects an IPv4 or IPv6 address (or localhost), got ${describe(text)}`,
  );
}

/** `ADDRESS:PORT` of --metrics-listen, checked here and kept as written (for --print-config). */
function parseMetricsListen(text: string, label: string): string {
  const parsed = parseHostAndPort(text);
  if (typeof parsed === "string") throw new UsageError(`${label} ${parsed}`);
  return text;
}

/** One of a fixed set of words (`--log-level`, `--log-format`), or an error listing them. */
const oneOf =
  <T extends string>(choices: readonly T[]) =>
  (text: string, label: string): T => {
    if ((choices as readonly string[]).includes(text)) return text as T;
    throw new UsageError(`${label} expects one of ${choices.join(", ")}, got ${describe(text)}`);
  };

const RESERVED_PATHS = ["/healthz", "/readyz", "/metrics"];

/** `redis://[user[:password]@]host:port[/db]` or `rediss://…`, the shared store of `--state`. */
function parseStateUrl(text: string, label: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(
      `${label} expects redis://[user[:password]@]host:port[/db] or rediss://…, got a value that is not a URL`,
    );
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new UsageError(`${label} expects a redis:// or rediss:// URL, got ${url.protocol}//…`);
  }
  if (url.password !== "") {
    throw new UsageError(
      `${label}: put no password in the URL (a process list shows it): use --state-password-file or SOCKET2WEB_STATE_PASSWORD`,
    );
  }
  if (url.hostname === "" || url.port === "") {
    throw new UsageError(`${label} needs a host and a port: redis://HOST:PORT`);
  }
  if (url.pathname !== "" && url.pathname !== "/" && !/^\/\d{1,2}$/.test(url.pathname)) {
    throw new UsageError(`${label}: the path can only be a database number (/0 … /99)`);
  }
  return text;
}

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
 *
 * To add one: an entry here (`value` with a default and a parser, `optional`, `list` or
 * `toggle`; `security: true` if it guards access, `secret: true` if it must never print), a
 * row in docs/configuration.md (a test checks), and, if the server reads it, a field of the
 * camel-cased name in ServerConfig (src/server/config.ts; tsc checks the two agree). Flags,
 * environment, file, --help and --print-config follow from the entry.
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
    default: "127.0.0.1",
    parse: parseListenAddress,
  }),
  port: value({
    hint: "port",
    description: "Port to listen on (below 1024 needs root or CAP_NET_BIND_SERVICE)",
    default: 433,
    parse: whole(1, 65535),
  }),
  "log-level": value({
    hint: "level",
    description: "trace, debug, info, warn or error",
    default: "info" as LogLevelName,
    parse: oneOf(LOG_LEVEL_NAMES),
  }),
  timeout: value({
    hint: "seconds",
    description: "Seconds for a client to send its handshake",
    default: 10,
    parse: whole(1, DAY, " (seconds)"),
  }),
  "max-connections": value({
    hint: "count",
    description: "Most WebSocket connections at once",
    default: 1000,
    parse: whole(1, 1_000_000),
  }),
  "max-lifetime": value({
    hint: "seconds",
    description: "Seconds a connection may last, 0 for no limit",
    default: 3600,
    parse: whole(0, YEAR, " (seconds, 0 for no limit)"),
  }),
  "connect-timeout": value({
    hint: "seconds",
    description: "Seconds for the target to accept",
    default: 10,
    parse: whole(1, 3600, " (seconds)"),
  }),
  "idle-timeout": value({
    hint: "seconds",
    description: "Seconds without a byte either way before closing, 0 for never",
    default: 0,
    parse: whole(0, DAY, " (seconds, 0 for never)"),
  }),
  "max-message-size": value({
    hint: "bytes",
    description: "Largest client message in bytes",
    default: DEFAULT_MAX_MESSAGE_SIZE,
    parse: whole(MAX_HANDSHAKE_BYTES, 2 ** 30, " (bytes)"),
  }),
  allow: list({
    security: true,
    hint: "rule",
    description: "Allow targets: CIDR, address or host name, optional :PORT[-PORT] (repeatable)",
  }),
  deny: list({
    hint: "rule",
    security: true,
    description: "Deny targets; deny wins over allow (repeatable)",
  }),
  "allow-origin": list({
    security: true,
    hint: "origin",
    description:
      "Allow pages from this Origin, e.g. https://app.example.com or https://*.example.com (repeatable)",
  }),
  "require-origin": toggle({
    description: "Refuse upgrades without an Origin header",
    security: true,
  }),
  "auth-token-file": optional({
    security: true,
    hint: "file",
    description:
      "Require a credential: static tokens, one per line (TOKEN, or NAME TOKEN to name its principal)",
  }),
  "auth-tokens": optional({
    security: true,
    hint: "tokens",
    description: "Static tokens, comma-separated (environment only)",
    sources: ["env"],
    secret: true,
  }),
  "ticket-secret": optional({
    security: true,
    hint: "secret",
    description: "Require a credential: HS256 ticket secret, 32 bytes or more",
    secret: true,
  }),
  "ticket-secret-file": optional({
    security: true,
    hint: "file",
    description: "Read the HS256 ticket secret from this file",
  }),
  "ticket-public-key": optional({
    security: true,
    hint: "file",
    description: "Require a credential: ES256 or EdDSA ticket public key (PEM)",
  }),
  "ticket-jwks": optional({
    security: true,
    hint: "file|url",
    description:
      "Require a credential: tickets (RS256, ES256, EdDSA) verified by kid against this JSON Web Key Set; a URL is refreshed",
  }),
  "ticket-issuer": optional({
    security: true,
    hint: "issuer",
    description: "Accept only tickets whose iss claim is this",
  }),
  "ticket-audience": optional({
    security: true,
    hint: "audience",
    description: "Accept only tickets whose aud claim is (or lists) this",
  }),
  "ticket-single-use": toggle({
    description: "Accept each ticket once (it must carry jti); remembered in memory until its exp",
  }),
  "tls-cert": optional({
    security: true,
    hint: "file",
    description: "Serve wss:// with this PEM certificate chain (reloaded on SIGHUP)",
  }),
  "tls-key": optional({
    security: true,
    hint: "file",
    description: "PEM private key for --tls-cert",
  }),
  "client-ca": optional({
    security: true,
    hint: "file",
    description: "wss only: require a client certificate signed by these PEM CA certificates",
  }),
  "allow-unix": list({
    security: true,
    hint: "path",
    description:
      "Offer the unix protocol for Unix sockets at or below this path (repeatable; off without it)",
  }),
  "tls-target-ca": optional({
    security: true,
    hint: "file",
    description: "Trust these PEM CA certificates for tls targets, besides the system's",
  }),
  "tls-target-insecure": toggle({
    description: "Do not verify tls targets' certificates (for testing; never for production)",
  }),
  "token-file": optional({
    security: true,
    hint: "path",
    description:
      "Raw sessions by ?token=: a websockify token file (TOKEN: HOST:PORT lines) or directory of them, re-read on change and SIGHUP",
  }),
  route: list({
    security: true,
    hint: "path=host:port",
    description: "Raw session target for one URL path, e.g. /vnc=127.0.0.1:5900 (repeatable)",
  }),
  "proxy-protocol": value<ProxyProtocolSetting>({
    hint: "version",
    description:
      "Send targets a PROXY protocol header (v1 or v2) naming the client, unless a route, token file entry or ticket says otherwise; off by default",
    default: "off",
    parse: oneOf(PROXY_PROTOCOL_SETTINGS),
  }),
  "max-connections-per-ip": value({
    hint: "count",
    description: "Most connections at once from one client address (IPv6: one /64), 0 for no limit",
    default: 0,
    parse: whole(0, 1_000_000, " (0 for no limit)"),
  }),
  "rate-limit": value({
    hint: "per-second",
    description: "Upgrades per second from one client address, 0 for no limit",
    default: 0,
    parse: whole(0, 1_000_000, " (per second, 0 for no limit)"),
  }),
  "rate-limit-burst": value({
    hint: "count",
    description: "Upgrades one client address may make at once, 0 for the --rate-limit value",
    default: 0,
    parse: whole(0, 1_000_000, " (0 for the --rate-limit value)"),
  }),
  "identity-header": optional({
    security: true,
    hint: "header",
    description:
      "Name each session's principal from this request header, believed only from --trust-proxy peers (e.g. X-Auth-Request-User)",
  }),
  access: optional({
    security: true,
    hint: "file",
    description:
      "TOML file of access rules per principal (targets, limits, bandwidth), re-read on change and SIGHUP",
  }),
  "trust-proxy": list({
    security: true,
    hint: "cidr",
    description: "Believe X-Forwarded-For from peers in this range (repeatable)",
  }),
  workers: value({
    hint: "count",
    description:
      "Processes serving the port together (SO_REUSEPORT), 0 for one per CPU core; limits apply per process",
    default: 1,
    parse: whole(0, 64, " (0 for one per CPU core)"),
    effective: (count) => (count === 0 ? navigator.hardwareConcurrency : count),
  }),
  metrics: toggle({
    description:
      "Serve Prometheus metrics at GET /metrics (on the same port: restrict who reaches it)",
  }),
  "metrics-listen": value<string | undefined>({
    hint: "address:port",
    description:
      "Serve /metrics, /healthz and /readyz on this separate listener, e.g. 127.0.0.1:9090",
    default: undefined,
    parse: parseMetricsListen,
  }),
  "admin-token-file": optional({
    security: true,
    hint: "file",
    description:
      "Serve the sessions API (/sessions) on --metrics-listen to these bearer tokens, one per line",
  }),
  "log-format": value<LogFormat>({
    hint: "format",
    description: "text (lines for people) or json (one object per line)",
    default: "text",
    parse: oneOf(LOG_FORMATS),
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
    default: 128,
    parse: whole(1, 65_535),
  }),
  state: value<string | undefined>({
    hint: "url",
    description:
      "Share limits across instances through Redis or Valkey: redis://[user@]host:port[/db] or rediss://",
    default: undefined,
    parse: parseStateUrl,
  }),
  "state-password-file": optional({
    hint: "file",
    description: "Read the --state password from this file (not on the command line)",
  }),
  "state-password": optional({
    hint: "password",
    description: "The --state password (environment only)",
    sources: ["env"],
    secret: true,
  }),
  "state-ca": optional({
    hint: "file",
    description: "PEM CAs a rediss:// --state server may chain to, besides the system's",
  }),
  "state-lease": value({
    hint: "seconds",
    description:
      "How long an instance's counts outlive it in the --state store when it dies without a word",
    default: 15,
    parse: whole(1, 3600),
  }),
  "state-fallback": value({
    hint: "local|refuse",
    description:
      "While the --state store is unreachable: limits count in each process (local), or upgrades are refused",
    default: "local" as "local" | "refuse",
    parse: oneOf(["local", "refuse"] as const),
  }),
  console: toggle({
    description: "Serve the console page at GET /: talk to a socket service and watch its bytes",
  }),
  capture: optional({
    hint: "dir",
    description: "Write one pcapng file per session into this directory (created 0700; files 0600)",
  }),
  "capture-max-bytes": value({
    hint: "bytes",
    description: "Largest capture file per session; later bytes are left out and the file says so",
    default: DEFAULT_CAPTURE_MAX_BYTES,
    parse: whole(MIN_CAPTURE_BYTES, 2 ** 40, " (bytes)"),
  }),
  "capture-max-total": value<CaptureTotal>({
    hint: "bytes|N%",
    description:
      "Most bytes of capture files in the directory, files already there included, or N% of the free space at start plus theirs; then new sessions are not captured",
    default: DEFAULT_CAPTURE_MAX_TOTAL,
    parse: parseCaptureTotal,
  }),
  "capture-filter": list({
    hint: "rule",
    description:
      "Capture only sessions whose target matches this rule, --allow syntax (repeatable)",
  }),
} as const satisfies Record<string, Setting>;

export type SettingKey = keyof typeof SETTINGS;

type ValueOf<S> =
  S extends ValueSetting<infer T> ? T : S extends ListSetting ? readonly string[] : boolean;

/** Every setting's effective value. */
export type Settings = { readonly [K in SettingKey]: ValueOf<(typeof SETTINGS)[K]> };

/** Every setting's variable starts with this. */
export const ENV_PREFIX = "SOCKET2WEB_";

export function envName(key: string): string {
  return `${ENV_PREFIX}${key.toUpperCase().replaceAll("-", "_")}`;
}

export function allowedIn(setting: Setting, source: SourceKind): boolean {
  return setting.sources === undefined || setting.sources.includes(source);
}
