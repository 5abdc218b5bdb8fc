import type { AnyProtocolAdapter } from "../adapters/types.ts";
import type { AccessRules } from "../auth/access-rules.ts";
import type { AccessSource } from "../auth/access-source.ts";
import type { CredentialCheck } from "../auth/credentials.ts";
import type { IdentityHeader } from "../auth/identity-header.ts";
import type { JwksSource } from "../auth/jwks-source.ts";
import type { OriginCheck } from "../auth/origin.ts";
import type { TokenSet } from "../auth/tokens.ts";
import type { FixedTargets } from "../front-ends/raw/fixed-targets.ts";
import type { TokenSnapshot, TokenSource } from "../front-ends/raw/token-source.ts";
import { count } from "../log/count.ts";
import { createLogger, fields, type Logger } from "../log/logger.ts";
import { serverMetrics, supervisorMetrics } from "../metrics/wiring.ts";
import type { ClientAddressResolver } from "../net/client-address.ts";
import { boundedResolver, type Resolver } from "../net/resolver.ts";
import type { Policy } from "../policy/policy.ts";
import { fatal, flushAndExit } from "../process/exit.ts";
import { fileLimitWarning, openFileLimit } from "../process/file-limit.ts";
import { onShutdownSignal } from "../process/signals.ts";
import { onSupervisorLost } from "../process/supervisor-link.ts";
import { openSharedState, type SharedState } from "../state/open.ts";
import { createRevocations } from "../state/revocations.ts";
import { explainBindError } from "./bind-error.ts";
import type { ServerConfig } from "./config.ts";
import { featureLines } from "./feature-lines.ts";
import type { PageRoute } from "./routes.ts";
import { type ProxyServer, startServer } from "./server.ts";
import { createSessionsApi } from "./sessions/api.ts";
import { fleetSessions } from "./sessions/fleet.ts";
import type { SessionsBackend, SessionTable } from "./sessions/table.ts";
import { linkWorkerSessions, superviseSessions } from "./sessions/workers.ts";
import { SHUTDOWN_DEADLINE_MS } from "./shutdown.ts";
import { loadTls, type TlsFiles, type TlsMaterial } from "./tls.ts";
import { type RunningWorkers, shareOf, superviseWorkers, workerId } from "./workers.ts";

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
  /** The protocol adapters the settings turn on (default: the built-in ones with default settings). */
  readonly adapters?: readonly AnyProtocolAdapter[];
  readonly notices: readonly Notice[];
  /** --route and --token-file; the token file is re-read on change and on SIGHUP. */
  readonly fixedTargets?: FixedTargets;
  /** `--ticket-jwks`: where its refresh failures are told; a supervisor, which verifies nothing, stops its refreshes. */
  readonly ticketKeys?: Pick<JwksSource, "report" | "close">;
  /** A page served beside the proxy (--console). */
  readonly page?: PageRoute;
  /** Bearer tokens of the sessions API on --metrics-listen (--admin-token-file); unset: off. */
  readonly adminTokens?: TokenSet | undefined;
  /** `--access`: rules per principal, re-read on change and on SIGHUP. */
  readonly access?: AccessSource;
  /** `--identity-header`. */
  readonly identity?: IdentityHeader;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `SOCKET2WEB_STATE_PASSWORD` (a secret: never in ServerConfig). */
  readonly statePassword?: string | undefined;
}

/**
 * Runs the server in this process, or, with more than one worker and not itself a worker,
 * supervises the workers that do. Returns once it is listening; signals end it.
 */
export async function runServer(setup: ServerSetup): Promise<void> {
  const id = workerId(setup.env);
  if (setup.config.workers > 1 && id === undefined) {
    setup.ticketKeys?.close();
    const logger = createLogger(setup.config.logLevel, setup.config.logFormat);
    const metrics = await supervisorMetrics(setup.config, setup.config.workers, logger);
    let running: RunningWorkers = new Map();
    const sessions = setup.adminTokens
      ? superviseSessions(() => running, setup.config.state !== undefined)
      : undefined;
    const workers = await superviseWorkers(
      setup.config,
      logger,
      metrics && {
        message(worker, message) {
          if (!sessions?.receive(worker, message)) metrics.hooks.message(worker, message);
        },
        stopping: metrics.hooks.stopping,
      },
    );
    running = workers;
    try {
      const listener = metrics?.listen(
        workers,
        setup.adminTokens && sessions && createSessionsApi(setup.adminTokens, sessions.backend),
      );
      if (listener) {
        logger.info(
          `metrics of all workers, health and readiness${setup.adminTokens ? ", sessions API" : ""} on ${listener.url}`,
          fields({ metrics: listener.url }),
        );
      }
    } catch (error) {
      fatal((error as Error).message);
    }
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
  const baseLogger = createLogger(config.logLevel, config.logFormat);
  const logger = id === undefined ? baseLogger : baseLogger.withTag(`worker ${id}`);
  const metrics = await serverMetrics(config, id === undefined ? "single" : "worker");
  const revocations = createRevocations();
  let state: SharedState | undefined;
  try {
    state = await openSharedState(config, setup.statePassword, revocations, logger);
  } catch (error) {
    fatal((error as Error).message);
  }
  let server: ProxyServer;
  try {
    server = startServer(config, {
      logger,
      resolver: boundedResolver(setup.resolver, config.connectTimeout),
      policy: setup.policy,
      credentials: setup.credentials,
      origin: setup.origin,
      clientAddress: setup.clientAddress,
      ...(state ? { counts: state.counts } : {}),
      revocations,
      ...(metrics ? { createMetrics: metrics.factory } : {}),
      ...(setup.tls ? { tls: setup.tls.material } : {}),
      ...(setup.adapters ? { adapters: setup.adapters } : {}),
      ...(setup.fixedTargets ? { fixedTargets: setup.fixedTargets } : {}),
      ...(setup.page ? { page: setup.page } : {}),
      worker: id,
      ...(setup.access ? { accessRules: setup.access.rules } : {}),
      ...(setup.identity ? { identity: setup.identity } : {}),
    });
  } catch (error) {
    fatal(explainBindError(error, config));
  }
  let stopping = false;
  // Before the first line: whoever reads "listening on" may signal at once, and must be heard.
  keepRunningOnBugs(logger);
  setup.ticketKeys?.report((level, text) => logger[level](text));
  onReloadSignal(server, setup.tls?.files, setup.fixedTargets?.tokens, setup.access, logger);
  onShutdownSignal(async (signal) => {
    stopping = true;
    logger.info(`${signal} received: closing ${server.sessions.size} sessions`);
    setTimeout(() => process.exit(0), SHUTDOWN_DEADLINE_MS).unref();
    await server.shutdown();
    await state?.close();
    logger.info("stopped");
    await flushAndExit(0);
  });
  logger.info(
    `socket2web listening on ${server.url} (max ${config.maxConnections} connections, ` +
      `handshake timeout ${config.timeout} s, connect timeout ${config.connectTimeout} s, ` +
      `max lifetime ${config.maxLifetime ? `${config.maxLifetime} s` : "none"}, ` +
      `idle timeout ${config.idleTimeout ? `${config.idleTimeout} s` : "none"})`,
    fields({
      listen: server.url,
      max_connections: config.maxConnections,
      handshake_timeout_s: config.timeout,
      connect_timeout_s: config.connectTimeout,
      max_lifetime_s: config.maxLifetime,
      idle_timeout_s: config.idleTimeout,
      worker: id,
    }),
  );
  for (const line of featureLines(server.url, config)) logger.info(line.text, fields(line.fields));
  const sessionsBackend = server.table && sharedSessions(server.table, state);
  // Only the supervisor serves --metrics-listen when there are workers.
  if (id === undefined) {
    try {
      const listener = metrics?.listen(
        () => !stopping,
        () => server.sessions.size,
        setup.adminTokens &&
          sessionsBackend &&
          createSessionsApi(setup.adminTokens, sessionsBackend),
        state ? () => (state as SharedState).counts.mode : undefined,
      );
      if (listener) {
        logger.info(
          `metrics, health and readiness${setup.adminTokens ? ", sessions API" : ""} on ${listener.url}`,
          fields({ metrics: listener.url }),
        );
      }
    } catch (error) {
      fatal((error as Error).message);
    }
  }
  for (const notice of setup.notices) logger[notice.level](notice.text);
  const fileWarning = fileLimitWarning(config.maxConnections, openFileLimit());
  if (fileWarning) logger.warn(fileWarning);
  if (id !== undefined && sessionsBackend) linkWorkerSessions(sessionsBackend);
  if (id !== undefined) {
    onSupervisorLost(async () => {
      // A signal's shutdown is already under way, bounded by its own deadline.
      if (stopping) return;
      stopping = true;
      logger.warn(`supervisor gone: closing ${server.sessions.size} sessions and exiting`);
      setTimeout(() => process.exit(1), ORPHAN_DEADLINE_MS).unref();
      await server.shutdown(ORPHAN_GRACE_MS);
      await state?.close();
      await flushAndExit(1);
    });
  }
}

/**
 * This process's sessions for the API; with `--state`, the fleet's too, and this process answers
 * the fleet's questions about its own.
 */
function sharedSessions(table: SessionTable, state: SharedState | undefined): SessionsBackend {
  if (!state) return table;
  const fleet = fleetSessions(table, state.fleet);
  state.fleet.serve(fleet.answer);
  return fleet.backend;
}

/**
 * SIGHUP re-reads the certificate and key for new connections, and the token file; a file that
 * fails to load is logged and the old one stays. The token file is also re-read when it changes.
 * With neither there is nothing to reload, and the signal no longer ends the process (its
 * default action).
 */
function onReloadSignal(
  server: ProxyServer,
  files: TlsFiles | undefined,
  tokens: TokenSource | undefined,
  access: AccessSource | undefined,
  logger: Logger,
): void {
  tokens?.watch((outcome) => reportTokens(tokens, outcome, "changed", logger));
  const accessReloaded = (outcome: AccessRules | Error, why: string) =>
    reportAccess(server, access as AccessSource, outcome, why, logger);
  access?.watch((outcome) => accessReloaded(outcome, "changed"));
  process.on("SIGHUP", () => {
    access?.reload().then(
      (rules) => accessReloaded(rules, "SIGHUP received"),
      (error: unknown) => accessReloaded(error as Error, "SIGHUP received"),
    );
    if (tokens) {
      tokens.reload().then(
        (snapshot) => reportTokens(tokens, snapshot, "SIGHUP received", logger),
        (error: unknown) => reportTokens(tokens, error as Error, "SIGHUP received", logger),
      );
    }
    if (!files) {
      if (!tokens && !access) {
        logger.info("SIGHUP received: no TLS certificate, token file or access file to reload");
      }
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

function reportTokens(
  tokens: TokenSource,
  outcome: TokenSnapshot | Error,
  why: string,
  logger: Logger,
): void {
  if (outcome instanceof Error) {
    logger.error(`${why}: kept the previous tokens of ${tokens.path}: ${outcome.message}`);
    return;
  }
  for (const problem of outcome.problems) logger.warn(`token file: skipped ${problem}`);
  logger.info(`${why}: reloaded ${count(outcome.targets.size, "token")} from ${tokens.path}`);
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

/**
 * New rules apply to new sessions; an open session whose target they deny is closed (4403). A
 * file that does not parse or validate leaves the old rules and is logged with its line.
 */
function reportAccess(
  server: ProxyServer,
  access: AccessSource,
  outcome: AccessRules | Error,
  why: string,
  logger: Logger,
): void {
  if (outcome instanceof Error) {
    server.accessReloadFailed();
    logger.error(`${why}: kept the old access rules: ${outcome.message}`);
    return;
  }
  const closed = server.access.replace(outcome);
  logger.info(
    `${why}: reloaded ${count(outcome.rules.length, "access rule")} from ${access.path}` +
      (closed > 0 ? `; closed ${count(closed, "session")} whose target they deny` : ""),
  );
}
