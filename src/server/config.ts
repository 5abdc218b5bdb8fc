import type { LogLevelName } from "../log/logger.ts";

/** The server's effective settings; durations in whole seconds, sizes in bytes, 0 disables a limit. */
export interface ServerConfig {
  readonly ip: string;
  readonly port: number;
  readonly logLevel: LogLevelName;
  /** Seconds from the upgrade for the handshake to arrive. */
  readonly timeout: number;
  readonly maxConnections: number;
  readonly maxLifetime: number;
  readonly connectTimeout: number;
  readonly idleTimeout: number;
  readonly maxMessageSize: number;
}

export const DEFAULT_CONFIG: ServerConfig = {
  ip: "127.0.0.1",
  port: 433,
  logLevel: "info",
  timeout: 10,
  maxConnections: 1000,
  maxLifetime: 3600,
  connectTimeout: 10,
  idleTimeout: 0,
  maxMessageSize: 16 * 1024 * 1024,
};
