import type { Settings } from "../config/settings.ts";
import type { ServerConfig } from "../server/config.ts";

/** The validated settings the server core uses; security settings are built in src/config/security.ts. */
export function toServerConfig(settings: Settings): ServerConfig {
  return {
    ip: settings.ip,
    port: settings.port,
    logLevel: settings["log-level"],
    timeout: settings.timeout,
    maxConnections: settings["max-connections"],
    maxLifetime: settings["max-lifetime"],
    connectTimeout: settings["connect-timeout"],
    idleTimeout: settings["idle-timeout"],
    maxMessageSize: settings["max-message-size"],
    maxConnectionsPerIp: settings["max-connections-per-ip"],
    rateLimit: settings["rate-limit"],
    rateLimitBurst: settings["rate-limit-burst"],
    metrics: settings.metrics,
    workers: settings.workers === 0 ? navigator.hardwareConcurrency : settings.workers,
    wisp: settings.wisp,
    wispMaxStreams: settings["wisp-max-streams"],
  };
}
