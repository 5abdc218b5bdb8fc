import type { CredentialCheck } from "../auth/credentials.ts";
import type { OriginCheck } from "../auth/origin.ts";
import { createLogger, type Logger } from "../log/logger.ts";
import type { ClientAddressResolver } from "../net/client-address.ts";
import { boundedResolver, type Resolver } from "../net/resolver.ts";
import type { Policy } from "../policy/policy.ts";
import type { ServerConfig } from "./config.ts";
import { explainBindError } from "./process/bind-error.ts";
import { fatal, flushAndExit } from "./process/exit.ts";
import { fileLimitWarning, openFileLimit } from "./process/file-limit.ts";
import { onShutdownSignal } from "./process/signals.ts";
import { onSupervisorLost } from "./process/supervisor-link.ts";
import { shareOf, superviseWorkers, workerId } from "./process/workers.ts";
import type { PageRoute } from "./routes.ts";
import { type ProxyServer, startServer } from "./server.ts";
import { SHUTDOWN_DEADLINE_MS } from "./shutdown.ts";
import { loadTls, type TlsFiles, type TlsMaterial } from "./tls.ts";

/** A worker whose supervisor is gone has nobody to answer to: it closes its sessions quickly. */
const ORPHAN_GRACE_MS = 500;
const ORPHAN_DEADLINE_MS = 1500;

/** A start-up line about the configuration, logged after the listening line. */
export interface Notice {
  readonly level: "info" | "warn";
  readonly text: string;
}

/** Everything the server runs with, validated and loaded before anything listens. */
export interface ServerSetup {
  readonly config: ServerConfig;
  readonly policy: Policy;
  readonly credentials: CredentialCheck;
  readonly origin: OriginCheck;
  readonly clientAddress: ClientAddressResolver;
  /** Resolves target names: the system's, or a table injected for tests. */
  readonly resolver: Resolver;
  readonly tls?: { readonly material: TlsMaterial; readonly files: TlsFiles };
  readonly notices: readonly Notice[];
  /** A page served beside the proxy (--console). */
  readonly page?: PageRoute;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * Runs the server in this process, or, with more than one worker and not itself a worker,
 * supervises the workers that do. Returns once it is listening; signals end it.
 */
export async function runServer(setup: ServerSetup): Promise<void> {
  const id = workerId(setup.env);
  if (setup.config.workers > 1 && id === undefined) {
    await superviseWorkers(setup.config, createLogger(setup.config.logLevel));
    return;
  }
  // A worker holds its share of --max-connections, so that together they hold the limit.
  const config =
    id === undefined
      ? setup.config
      : {
          ...setup.config,
          maxConnections: shareOf(setup.config.maxConnections, setup.config.workers),
        };
  const baseLogger = createLogger(config.logLevel);
  const logger = id === undefined ? baseLogger : baseLogger.withTag(`worker ${id}`);
  let server: ProxyServer;
  try {
    server = startServer(config, {
      logger,
      resolver: boundedResolver(setup.resolver, config.connectTimeout),
      policy: setup.policy,
      credentials: setup.credentials,
      origin: setup.origin,
      clientAddress: setup.clientAddress,
      ...(config.metrics
        ? { createMetrics: (await import("../metrics/metrics.ts")).createMetrics }
        : {}),
      ...(setup.tls ? { tls: setup.tls.material } : {}),
      ...(setup.page ? { page: setup.page } : {}),
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
  for (const notice of setup.notices) logger[notice.level](notice.text);
  const fileWarning = fileLimitWarning(config.maxConnections, openFileLimit());
  if (fileWarning) logger.warn(fileWarning);
  keepRunningOnBugs(logger);
  onReloadSignal(server, setup.tls?.files, logger);
  let stopping = false;
  onShutdownSignal(async (signal) => {
    stopping = true;
    logger.info(`${signal} received: closing ${server.sessions.size} sessions`);
    setTimeout(() => process.exit(0), SHUTDOWN_DEADLINE_MS).unref();
    await server.shutdown();
    logger.info("stopped");
    await flushAndExit(0);
  });
  if (id !== undefined) {
    onSupervisorLost(async () => {
      // A signal's shutdown is already under way, bounded by its own deadline.
      if (stopping) return;
      stopping = true;
      logger.warn(`supervisor gone: closing ${server.sessions.size} sessions and exiting`);
      setTimeout(() => process.exit(1), ORPHAN_DEADLINE_MS).unref();
      await server.shutdown(ORPHAN_GRACE_MS);
      await flushAndExit(1);
    });
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
