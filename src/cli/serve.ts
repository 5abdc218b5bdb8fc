import { defineCommand } from "citty";
import { createLogger } from "../log/logger.ts";
import { startServer } from "../server/server.ts";
import { createTargetResolver, systemResolver } from "../session/resolve.ts";
import { explainBindError } from "./bind-error.ts";
import { fatal } from "./exit.ts";
import { assertKnownFlags } from "./flags.ts";
import { toServerConfig } from "./options.ts";
import { serverArgs } from "./server-args.ts";
import { onShutdownSignal } from "./signals.ts";

/** Exits with 0 even when a flush hangs: the protocol promises an exit within 10 s of the signal. */
const SHUTDOWN_DEADLINE_MS = 9000;

export const serveCommand = defineCommand({
  meta: { name: "serve", description: "Run the proxy server (the default command)" },
  args: serverArgs,
  async run({ args, rawArgs }) {
    assertKnownFlags(rawArgs, serverArgs);
    const config = toServerConfig(args);
    const logger = createLogger(config.logLevel);
    let server: ReturnType<typeof startServer>;
    try {
      server = startServer(config, {
        logger,
        resolve: createTargetResolver(systemResolver, () => {}),
      });
    } catch (error) {
      fatal(explainBindError(error, config));
    }
    logger.info(
      `socket2web listening on ${server.url} (max ${config.maxConnections} connections, ` +
        `handshake timeout ${config.timeout} s, connect timeout ${config.connectTimeout} s, ` +
        `max lifetime ${config.maxLifetime ? `${config.maxLifetime} s` : "none"}, ` +
        `idle timeout ${config.idleTimeout ? `${config.idleTimeout} s` : "none"})`,
    );
    onShutdownSignal(async (signal) => {
      logger.info(`${signal} received: closing ${server.sessions.size} sessions`);
      setTimeout(() => process.exit(0), SHUTDOWN_DEADLINE_MS).unref();
      await server.shutdown();
      logger.info("stopped");
      process.exit(0);
    });
  },
});
