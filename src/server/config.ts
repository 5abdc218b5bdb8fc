import type { CaptureTotal } from "../capture/budget.ts";
import type { LogFormat, LogLevelName } from "../log/logger.ts";
import type { ProxyProtocolSetting } from "../net/proxy-protocol.ts";

/**
 * What the server needs of its settings; durations in whole seconds, sizes in bytes, 0 disables a
 * limit. Built from the settings table (src/config/settings.ts) by camel-casing each key, which
 * also holds the defaults: a field here without a setting of the same name fails to compile.
 */
export interface ServerConfig {
  readonly ip: string;
  readonly port: number;
  readonly logLevel: LogLevelName;
  readonly logFormat: LogFormat;
  /** Seconds from the upgrade for the handshake to arrive. */
  readonly timeout: number;
  readonly maxConnections: number;
  readonly maxLifetime: number;
  readonly connectTimeout: number;
  /** `--proxy-protocol`: the PROXY protocol header targets get unless their own setting differs. */
  readonly proxyProtocol: ProxyProtocolSetting;
  readonly idleTimeout: number;
  readonly maxMessageSize: number;
  /** Open WebSockets per client address (IPv6: per /64). */
  readonly maxConnectionsPerIp: number;
  /** Upgrades per second per client address, refilled continuously. */
  readonly rateLimit: number;
  /** Upgrades a client address may make at once; 0 means one second's worth (`rateLimit`). */
  readonly rateLimitBurst: number;
  /** Serve Prometheus metrics at GET /metrics on the proxy's port. */
  readonly metrics: boolean;
  /** `ADDRESS:PORT` of the separate /metrics, /healthz and /readyz listener. */
  readonly metricsListen: string | undefined;
  /** Tokens of the sessions API on the --metrics-listen listener; unset: the API is off. */
  readonly adminTokenFile: string | undefined;
  /** Serve the console page at GET / (and its assets). */
  readonly console: boolean;
  /** Directory for one pcapng file per session; unset: no capture. */
  readonly capture: string | undefined;
  readonly captureMaxBytes: number;
  /** Most bytes of capture files in the directory: bytes, or a percentage of the room for them. */
  readonly captureMaxTotal: CaptureTotal;
  /** Target rules (`--allow` syntax, checked at start-up); empty: every session. */
  readonly captureFilter: readonly string[];
  /** Processes sharing the port (SO_REUSEPORT); each enforces the limits for its share. */
  readonly workers: number;
  /** `--allow-unix`: path prefixes for the unix adapter; empty leaves it off. */
  readonly allowUnix: readonly string[];
  /** `--tls-target-ca`: a PEM file of CAs tls targets may chain to, besides the system's. */
  readonly tlsTargetCa: string | undefined;
  /** `--tls-target-insecure`: tls targets are not verified. */
  readonly tlsTargetInsecure: boolean;
  /** Path prefix under which Wisp and wsproxy are served (docs/protocol.md, Wisp); undefined: off. */
  readonly wisp: string | undefined;
  /** Most streams at once on one Wisp connection. */
  readonly wispMaxStreams: number;
  /** `--state`: the Redis URL limits are shared through; undefined: in process. */
  readonly state: string | undefined;
  readonly statePasswordFile: string | undefined;
  readonly stateCa: string | undefined;
  /** Seconds an instance's counts outlive it in the store. */
  readonly stateLease: number;
  readonly stateFallback: "local" | "refuse";
}
