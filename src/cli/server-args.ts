import type { ArgsDef } from "citty";
import { DEFAULT_CONFIG as D } from "../server/config.ts";

/** The server's flags. Numbers are strings here: citty has no number type, options.ts validates them. */
export const serverArgs = {
  ip: {
    type: "string",
    valueHint: "address",
    description: "Address to listen on (an IP address or localhost)",
    default: D.ip,
  },
  port: {
    type: "string",
    valueHint: "port",
    description: "Port to listen on (below 1024 needs root or CAP_NET_BIND_SERVICE)",
    default: String(D.port),
  },
  "log-level": {
    type: "string",
    valueHint: "level",
    description: "trace, debug, info, warn or error",
    default: D.logLevel,
  },
  timeout: {
    type: "string",
    valueHint: "seconds",
    description: "Seconds for a client to send its handshake",
    default: String(D.timeout),
  },
  "max-connections": {
    type: "string",
    valueHint: "count",
    description: "Most WebSocket connections at once",
    default: String(D.maxConnections),
  },
  "max-lifetime": {
    type: "string",
    valueHint: "seconds",
    description: "Seconds a connection may last, 0 for no limit",
    default: String(D.maxLifetime),
  },
  "connect-timeout": {
    type: "string",
    valueHint: "seconds",
    description: "Seconds for the target to accept",
    default: String(D.connectTimeout),
  },
  "idle-timeout": {
    type: "string",
    valueHint: "seconds",
    description: "Seconds without a byte either way before closing, 0 for never",
    default: String(D.idleTimeout),
  },
  "max-message-size": {
    type: "string",
    valueHint: "bytes",
    description: "Largest client message in bytes",
    default: String(D.maxMessageSize),
  },
} as const satisfies ArgsDef;
