import { isIP } from "node:net";
import type { ParsedArgs } from "citty";
import { LOG_LEVEL_NAMES, type LogLevelName } from "../log/logger.ts";
import { MAX_HANDSHAKE_BYTES } from "../protocol/constants.ts";
import type { ServerConfig } from "../server/config.ts";
import { describe, parseWholeNumber } from "./flags.ts";
import type { serverArgs } from "./server-args.ts";
import { UsageError } from "./usage-error.ts";

const DAY = 86_400;
const YEAR = 365 * DAY;

/** Turns parsed flags into the server's configuration, or throws a UsageError naming the flag. */
export function toServerConfig(args: ParsedArgs<typeof serverArgs>): ServerConfig {
  return {
    ip: parseListenAddress(args.ip),
    port: parseWholeNumber("port", args.port, 1, 65535),
    logLevel: parseLogLevel(args["log-level"]),
    timeout: parseWholeNumber("timeout", args.timeout, 1, DAY, " (seconds)"),
    maxConnections: parseWholeNumber("max-connections", args["max-connections"], 1, 1_000_000),
    maxLifetime: parseWholeNumber(
      "max-lifetime",
      args["max-lifetime"],
      0,
      YEAR,
      " (seconds, 0 for no limit)",
    ),
    connectTimeout: parseWholeNumber(
      "connect-timeout",
      args["connect-timeout"],
      1,
      3600,
      " (seconds)",
    ),
    idleTimeout: parseWholeNumber(
      "idle-timeout",
      args["idle-timeout"],
      0,
      DAY,
      " (seconds, 0 for never)",
    ),
    maxMessageSize: parseWholeNumber(
      "max-message-size",
      args["max-message-size"],
      MAX_HANDSHAKE_BYTES,
      2 ** 30,
      " (bytes)",
    ),
  };
}

function parseListenAddress(value: unknown): string {
  // A host name would be resolved by the listener, and only localhost resolves without the network.
  if (typeof value === "string" && (isIP(value) !== 0 || value === "localhost")) return value;
  throw new UsageError(
    `--ip expects an IPv4 or IPv6 address (or localhost), got ${describe(value)}`,
  );
}

function parseLogLevel(value: unknown): LogLevelName {
  if (typeof value === "string" && (LOG_LEVEL_NAMES as readonly string[]).includes(value))
    return value as LogLevelName;
  throw new UsageError(
    `--log-level expects one of ${LOG_LEVEL_NAMES.join(", ")}, got ${describe(value)}`,
  );
}
