import { defineCommand } from "citty";
import { openProxyWarning } from "../config/exposure.ts";
import { fileLimitWarning, openFileLimit } from "../config/file-limit.ts";
import { loadSettings } from "../config/load.ts";
import { formatSettings } from "../config/print.ts";
import { buildSecurity } from "../config/security.ts";
import { TEST_HOSTS_ENV, testHostsResolver } from "../config/test-hosts.ts";
import { createLogger, type Logger } from "../log/logger.ts";
import { boundedResolver, systemResolver } from "../net/resolver.ts";
import { type ProxyServer, startServer } from "../server/server.ts";
import { SHUTDOWN_DEADLINE_MS } from "../server/shutdown.ts";
import { loadTls, type TlsFiles, TlsLoadError } from "../server/tls.ts";
import { explainBindError } from "./bind-error.ts";
import { fatal } from "./exit.ts";
import { assertKnownFlags } from "./flags.ts";
import { toServerConfig } from "./options.ts";
import { serverArgs } from "./server-args.ts";
import { onShutdownSignal } from "./signals.ts";
import { UsageError } from "./usage-error.ts";
import { shareOf, superviseWorkers, WORKER_ENV } from "./workers.ts";

export const serveCommand = defineCommand({
  meta: { name: "serve", description: "Run the proxy server (the default command)" },
  args: serverArgs,
  async run({ rawArgs }) {
    assertKnownFlags(rawArgs, serverArgs);
    const loaded = await loadSettings(rawArgs, process.env);
    const { settings } = loaded;
    const security = await buildSecurity(settings, loaded.origins);
    const tls = security.tls ? await readTls(security.tls) : undefined;
    if (settings["print-config"]) {
      process.stdout.write(formatSettings(loaded));
      return;
    }
    const settingsConfig = toServerConfig(settings);
    const workerId = process.env[WORKER_ENV];
    if (settingsConfig.workers > 1 && settingsConfig.metrics) {
      throw new UsageError(
        "--metrics needs --workers 1: each worker would report only its own sessions",
      );
    }
    if (settingsConfig.workers > 1 && workerId === undefined) {
      await superviseWorkers(settingsConfig, createLogger(settingsConfig.logLevel));
      return;
    }
    // A worker holds its share of --max-connections, so that together they hold the limit.
    const config =
      workerId === undefined
        ? settingsConfig
        : {
            ...settingsConfig,
            maxConnections: shareOf(settingsConfig.maxConnections, settingsConfig.workers),
          };
    const baseLogger = createLogger(config.logLevel);
    const logger = workerId === undefined ? baseLogger : baseLogger.withTag(`worker ${workerId}`);
    let resolver = systemResolver;
    try {
      const testResolver = testHostsResolver(process.env);
      if (testResolver) {
        logger.warn(`${TEST_HOSTS_ENV} is set: host names resolve from it only (a testing aid)`);
        resolver = testResolver;
      }
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    let server: ProxyServer;
    try {
      server = startServer(config, {
        logger,
        resolver: boundedResolver(resolver, config.connectTimeout),
        policy: security.policy,
        credentials: security.credentials,
        origin: security.origin,
        clientAddress: security.clientAddress,
        ...(config.metrics
          ? { createMetrics: (await import("../metrics/metrics.ts")).createMetrics }
          : {}),
        ...(tls ? { tls } : {}),
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
    logger.info(
      `policy: ${security.rules.allow.length} allow and ${security.rules.deny.length} deny rules; ` +
        `credential: ${security.authSummary}`,
    );
    const warning = openProxyWarning(
      config.ip,
      security.rules.allow.length,
      security.credentials.required,
    );
    if (warning) logger.warn(warning);
    const fileWarning = fileLimitWarning(config.maxConnections, openFileLimit());
    if (fileWarning) logger.warn(fileWarning);
    keepRunningOnBugs(logger);
    onReloadSignal(server, security.tls, logger);
    onShutdownSignal(async (signal) => {
      logger.info(`${signal} received: closing ${server.sessions.size} sessions`);
      setTimeout(() => process.exit(0), SHUTDOWN_DEADLINE_MS).unref();
      await server.shutdown();
      logger.info("stopped");
      process.exit(0);
    });
  },
});

async function readTls(files: TlsFiles) {
  try {
    return await loadTls(files);
  } catch (error) {
    if (error instanceof TlsLoadError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * SIGHUP re-reads the certificate and key for new connections; a file that fails to load is
 * logged and the old certificate stays. Without TLS there is nothing to reload, and the signal
 * no longer ends the process (its default action).
 */
function onReloadSignal(server: ProxyServer, files: TlsFiles | undefined, logger: Logger): void {
  process.on("SIGHUP", () => {
    if (!files) {
      logger.info("SIGHUP received: no TLS certificate to reload");
      return;
    }
    loadTls(files).then(
      (material) => {
        server.reloadTls(material);
        logger.info(`SIGHUP received: reloaded the TLS certificate from ${files.certFile}`);
      },
      (error: unknown) =>
        logger.error(`SIGHUP received: kept the old TLS certificate: ${(error as Error).message}`),
    );
  });
}

/**
 * The last line of defence: an exception that escapes every per-session guard is logged and the
 * other sessions carry on, instead of the process (and every session with it) going down.
 */
function keepRunningOnBugs(logger: Logger): void {
  process.on("uncaughtException", (error) =>
    logger.error("internal error (still serving):", error),
  );
  process.on("unhandledRejection", (error) =>
    logger.error("internal error (still serving):", error),
  );
}
