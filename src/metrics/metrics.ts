import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";

/** What a finished (or live) session contributes. */
export interface SessionFigures {
  readonly bytesFromClient: number;
  readonly bytesFromTarget: number;
}

export interface FinishedSession extends SessionFigures {
  readonly closeCode: number | undefined;
  /** The protocol `error` its status carried, if it failed before proxying. */
  readonly error: string | undefined;
}

export interface ProxyMetrics {
  readonly contentType: string;
  sessionFinished(session: FinishedSession): void;
  /** An upgrade refused before it became a session (HTTP 401/403) or closed at once (1013, 1001). */
  refused(reason: RefusalReason): void;
  render(): Promise<string>;
}

export type MetricsFactory = (live: () => Iterable<SessionFigures>) => ProxyMetrics;

export type RefusalReason =
  | "origin"
  | "credential"
  | "capacity"
  | "per_ip"
  | "rate_limit"
  | "shutdown"
  /** Raw sessions (routes, token files), refused before the upgrade. */
  | "unknown_target"
  | "forbidden"
  | "connect_failed"
  | "connect_timeout";

/**
 * Prometheus metrics. Nothing is counted on the data path: bytes are the finished sessions' totals
 * plus the live sessions' counters, read when /metrics is scraped, so the counter stays monotonic
 * (a session moves from live to finished in one step).
 */
export const createMetrics: MetricsFactory = (live) => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "socket2web_" });
  const finishedBytes = { client_to_target: 0, target_to_client: 0 };

  new Gauge({
    name: "socket2web_sessions_active",
    help: "WebSocket connections counted towards --max-connections",
    registers: [registry],
    collect() {
      let count = 0;
      for (const _ of live()) count++;
      this.set(count);
    },
  });
  const sessions = new Counter({
    name: "socket2web_sessions_total",
    help: "Finished sessions by WebSocket close code",
    labelNames: ["close_code"],
    registers: [registry],
  });
  const errors = new Counter({
    name: "socket2web_session_errors_total",
    help: "Sessions that ended with an error status, by protocol error code",
    labelNames: ["error"],
    registers: [registry],
  });
  const refusals = new Counter({
    name: "socket2web_refused_total",
    help: "Connections refused before becoming a session, by reason",
    labelNames: ["reason"],
    registers: [registry],
  });
  new Counter({
    name: "socket2web_bytes_total",
    help: "Payload bytes relayed, by direction",
    labelNames: ["direction"],
    registers: [registry],
    collect() {
      let up = finishedBytes.client_to_target;
      let down = finishedBytes.target_to_client;
      for (const session of live()) {
        up += session.bytesFromClient;
        down += session.bytesFromTarget;
      }
      this.reset();
      this.inc({ direction: "client_to_target" }, up);
      this.inc({ direction: "target_to_client" }, down);
    },
  });

  return {
    contentType: registry.contentType,
    sessionFinished(session) {
      finishedBytes.client_to_target += session.bytesFromClient;
      finishedBytes.target_to_client += session.bytesFromTarget;
      sessions.inc({ close_code: String(session.closeCode ?? "none") });
      if (session.error) errors.inc({ error: session.error });
    },
    refused(reason) {
      refusals.inc({ reason });
    },
    render: () => registry.metrics(),
  };
};
