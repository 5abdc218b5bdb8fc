import type { Logger } from "../log/logger.ts";
import { formatHostPort } from "../net/host-port.ts";
import type { WorkerChannel } from "./aggregate.ts";
import { parseListenAddress } from "./listen-address.ts";
import { type AdminRoute, type MetricsListener, startMetricsListener } from "./listener.ts";
import type { MetricsFactory, ProxyMetrics } from "./metrics.ts";

/** The settings that decide where metrics are served. */
export interface MetricsSettings {
  /** /metrics on the proxy's own port. */
  readonly metrics: boolean;
  /** `ADDRESS:PORT` of the separate listener (already checked by the settings). */
  readonly metricsListen: string | undefined;
}

export const metricsWanted = (settings: MetricsSettings): boolean =>
  settings.metrics || settings.metricsListen !== undefined;

/** Opens the --metrics-listen listener, or exits the way a bad setting does: one line. */
function listen(
  settings: MetricsSettings,
  source: Parameters<typeof startMetricsListener>[2],
): MetricsListener | undefined {
  if (settings.metricsListen === undefined) return undefined;
  const address = parseListenAddress(settings.metricsListen);
  if (typeof address === "string") throw new Error(`--metrics-listen ${address}`);
  try {
    return startMetricsListener(address.host, address.port, source);
  } catch (error) {
    throw new MetricsListenError(error, formatHostPort(address.host, address.port));
  }
}

/** The metrics listener could not bind; the message says why in one line. */
export class MetricsListenError extends Error {
  constructor(cause: unknown, where: string) {
    const code = (cause as { code?: string }).code;
    const why =
      code === "EADDRINUSE"
        ? "the port is already in use by another process"
        : code === "EACCES" || code === "EPERM"
          ? "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
          : code === "EADDRNOTAVAIL"
            ? "not an address of this host"
            : ((cause as Error).message ?? String(cause));
    super(`cannot listen for metrics on ${where} (--metrics-listen): ${why}`);
  }
}

export interface ServerMetrics {
  /** For startServer: builds the metrics (and remembers them for the listener). */
  readonly factory: MetricsFactory;
  /** Once serving: opens --metrics-listen, if set, with the sessions API. Throws MetricsListenError. */
  listen(
    ready: () => boolean,
    sessions: () => number,
    admin?: AdminRoute,
    limits?: () => string,
  ): MetricsListener | undefined;
}

/**
 * Metrics of a server process. In a worker, /metrics on the proxy's port answers with the whole
 * server's total, which the supervisor adds up; the worker answers the supervisor's scrapes.
 */
export async function serverMetrics(
  settings: MetricsSettings,
  role: "single" | "worker",
): Promise<ServerMetrics | undefined> {
  if (!metricsWanted(settings)) return undefined;
  const { createMetrics } = await import("./metrics.ts");
  const link = role === "worker" ? (await import("./aggregate.ts")).linkWorkerMetrics : undefined;
  let built: ProxyMetrics | undefined;
  return {
    factory(live, options) {
      const metrics = createMetrics(live, options);
      built = link ? { ...metrics, render: link(metrics.snapshot).total } : metrics;
      return built;
    },
    listen(ready, sessions, admin, limits) {
      const metrics = built;
      if (!metrics) return undefined;
      return listen(settings, {
        render: () => metrics.render(),
        contentType: metrics.contentType,
        ready,
        sessions,
        admin,
        ...(limits ? { limits } : {}),
      });
    },
  };
}

export interface SupervisorMetrics {
  /** For superviseWorkers: the metrics exchange with the workers, and the shutdown signal. */
  readonly hooks: { message(workerId: number, message: unknown): void; stopping(): void };
  /** Once the workers run: opens --metrics-listen, if set, with the sessions API. Throws MetricsListenError. */
  listen(
    workers: ReadonlyMap<number, WorkerChannel>,
    admin?: AdminRoute,
  ): MetricsListener | undefined;
}

/** The supervisor's side: one scrape adds up every worker's metrics and its own. */
export async function supervisorMetrics(
  settings: MetricsSettings,
  configuredWorkers: number,
  logger: Logger,
): Promise<SupervisorMetrics | undefined> {
  if (!metricsWanted(settings)) return undefined;
  const { createWorkerScraper } = await import("./aggregate.ts");
  let running: ReadonlyMap<number, WorkerChannel> = new Map();
  let ready = true;
  const scraper = createWorkerScraper({ configuredWorkers, workers: () => running });
  return {
    hooks: {
      message(workerId, message) {
        if (!scraper.receive(workerId, message)) {
          logger.debug(`worker ${workerId}: ignored an unknown IPC message`);
        }
      },
      stopping() {
        ready = false;
      },
    },
    listen(workers, admin) {
      running = workers;
      return listen(settings, {
        render: () => scraper.scrape(),
        contentType: scraper.contentType,
        ready: () => ready,
        admin,
      });
    },
  };
}
