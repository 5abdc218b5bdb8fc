import {
  Counter,
  Gauge,
  Histogram,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from "prom-client";
import type { ClosedBy } from "../log/closed-by.ts";
import { ERROR_CLOSE_CODES } from "../protocol/constants.ts";
import {
  CONNECT_OUTCOMES,
  type ConnectOutcome,
  closeCodeLabel,
  closedByLabel,
  FRONT_ENDS,
  type FrontEndName,
  NONE,
  OTHER,
  protocolLabeller,
  REFUSAL_REASONS,
  type RefusalReason,
} from "./labels.ts";
import { registerProcessMetrics } from "./process.ts";

export type { ConnectOutcome, FrontEndName, RefusalReason } from "./labels.ts";

/** What a finished (or live) session contributes. */
export interface SessionFigures {
  readonly bytesFromClient: number;
  readonly bytesFromTarget: number;
  /** The adapter its handshake chose; undefined before the handshake. */
  readonly protocol?: string | undefined;
}

export interface FinishedSession extends SessionFigures {
  /** The client protocol it came in by. */
  readonly frontEnd: FrontEndName;
  readonly closeCode: number | undefined;
  /** Who chose the close code: a client's own code is not the server's verdict. */
  readonly closedBy: ClosedBy;
  /** The protocol `error` its status carried, if it failed before proxying. */
  readonly error: string | undefined;
  /** From the WebSocket opening to its close. */
  readonly durationSeconds?: number | undefined;
  /** Datagrams lost where UDP loses them (messages transports only). */
  readonly dropped?: { readonly toClient: number; readonly toTarget: number } | undefined;
  /** Who the session belonged to. */
  readonly principal?: string | undefined;
}

/** One process's metrics as prom-client's JSON, for a supervisor to add up (see aggregate.ts). */
export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

export interface ProxyMetrics {
  readonly contentType: string;
  sessionFinished(session: FinishedSession): void;
  /**
   * A connection refused before it became a session, with the reason where it was decided and the
   * front end it came to (undefined: refused before any front end claimed it).
   */
  refused(reason: RefusalReason, frontEnd?: FrontEndName): void;
  /** Seconds from the WebSocket opening to the client's handshake arriving. */
  handshakeReceived(seconds: number): void;
  /** Seconds spent opening the target (resolving, checking and connecting), and how it ended. */
  targetConnect(protocol: string, seconds: number, outcome: ConnectOutcome): void;
  /** A session of `principal` refused (by its access rule, the policy, a limit…). */
  principalRefused(principal: string, reason: RefusalReason): void;
  /** An access file reload that did not parse or validate (the old rules stayed). */
  accessReloadFailed(): void;
  /** Bytes written into --capture files. */
  captureWritten(bytes: number): void;
  /** A session --capture-max-total left out. */
  captureSkipped(): void;
  render(): Promise<string>;
  snapshot(): Promise<MetricsSnapshot>;
}

/** The part of the metrics a session reports to as it goes. */
export type SessionObserver = Pick<ProxyMetrics, "handshakeReceived" | "targetConnect">;

export interface MetricsOptions {
  /** The adapters' names: the `protocol` label's values (anything else is `other`). */
  readonly protocols?: readonly string[];
  /**
   * The `principal` label of a principal's name: its own only when the access file names it
   * literally, so the label's values stay as few as the file's names (default: all `other`).
   */
  readonly principalLabel?: (name: string) => string;
  /** With `--state`: whether the limits are fleet-wide now (`fleet`) or counted alone. */
  readonly limitsMode?: () => string;
}

export type MetricsFactory = (
  live: () => Iterable<SessionFigures>,
  options?: MetricsOptions,
) => ProxyMetrics;

/** Upgrade to handshake: a person's client answers in milliseconds, the default timeout is 10 s. */
const HANDSHAKE_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Target connect: loopback is sub-millisecond, a far target hundreds of ms, the timeout 10 s. */
const CONNECT_BUCKETS = [
  0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
/** Session lifetime: from refused-at-once to day-long tunnels. */
const SESSION_BUCKETS = [0.01, 0.1, 1, 10, 60, 300, 900, 3600, 4 * 3600, 24 * 3600];

const DIRECTIONS = ["client_to_target", "target_to_client"] as const;

/**
 * Prometheus metrics. Nothing is counted on the data path: bytes are the finished sessions' totals
 * plus the live sessions' counters, read when /metrics is scraped, so the counter stays monotonic
 * (a session moves from live to finished in one step). Every label takes values from a closed set
 * (labels.ts).
 */
export const createMetrics: MetricsFactory = (live, options = {}) => {
  const registry = new Registry();
  registerProcessMetrics(registry);
  const { limitsMode } = options;
  if (limitsMode) {
    new Gauge({
      name: "socket2web_state_connected",
      help: "1 while the --state store is reachable and limits are fleet-wide, 0 while this process counts alone",
      registers: [registry],
      collect() {
        this.set(limitsMode() === "fleet" ? 1 : 0);
      },
    });
  }
  const protocolOf = protocolLabeller(options.protocols ?? ["tcp"]);
  const errorOf = (error: string) => (Object.hasOwn(ERROR_CLOSE_CODES, error) ? error : OTHER);
  /** Finished sessions' bytes, by `direction protocol`. */
  const finishedBytes = new Map<string, number>();
  const addBytes = (totals: Map<string, number>, figures: SessionFigures) => {
    const protocol = protocolOf(figures.protocol);
    const up = `client_to_target ${protocol}`;
    const down = `target_to_client ${protocol}`;
    totals.set(up, (totals.get(up) ?? 0) + figures.bytesFromClient);
    totals.set(down, (totals.get(down) ?? 0) + figures.bytesFromTarget);
  };

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
    help:
      "Finished sessions by front end, WebSocket close code (codes outside RFC 6455 and the protocol's are 'other') " +
      "and who chose it (client, server, target)",
    labelNames: ["frontend", "close_code", "closed_by"],
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
    help: "Connections refused before becoming a session, by front end and reason",
    labelNames: ["frontend", "reason"],
    registers: [registry],
  });
  for (const frontend of [...FRONT_ENDS, NONE]) {
    for (const reason of REFUSAL_REASONS) refusals.inc({ frontend, reason }, 0);
  }
  const frontEndOf = (name: string | undefined) =>
    name === undefined ? NONE : (FRONT_ENDS as readonly string[]).includes(name) ? name : OTHER;
  const dropped = new Counter({
    name: "socket2web_datagrams_dropped_total",
    help: "Datagrams of finished udp sessions dropped where UDP drops them, by direction",
    labelNames: ["direction"],
    registers: [registry],
  });
  new Counter({
    name: "socket2web_bytes_total",
    help: "Payload bytes relayed, by direction and protocol",
    labelNames: ["direction", "protocol"],
    registers: [registry],
    collect() {
      const totals = new Map(finishedBytes);
      for (const session of live()) addBytes(totals, session);
      this.reset();
      for (const direction of DIRECTIONS) {
        // Both directions always appear, so a rate() over them starts at the first scrape.
        if (totals.size === 0) this.inc({ direction, protocol: NONE }, 0);
      }
      for (const [key, bytes] of totals) {
        const [direction = "", protocol = NONE] = key.split(" ");
        this.inc({ direction, protocol }, bytes);
      }
    },
  });
  const handshake = new Histogram({
    name: "socket2web_handshake_duration_seconds",
    help: "Time from the WebSocket opening to the client's handshake arriving",
    buckets: HANDSHAKE_BUCKETS,
    registers: [registry],
  });
  const connect = new Histogram({
    name: "socket2web_target_connect_duration_seconds",
    help: "Time to open the target (resolve, check, connect), by protocol and outcome",
    labelNames: ["protocol", "outcome"],
    buckets: CONNECT_BUCKETS,
    registers: [registry],
  });
  const captureBytes = new Counter({
    name: "socket2web_capture_written_bytes_total",
    help: "Bytes written into --capture files",
    registers: [registry],
  });
  const captureSkipped = new Counter({
    name: "socket2web_capture_sessions_skipped_total",
    help: "Sessions the capture filter selected but --capture-max-total left out",
    registers: [registry],
  });
  const principalOf = (name: string | undefined) =>
    name === undefined ? OTHER : (options.principalLabel?.(name) ?? OTHER);
  const principalSessions = new Counter({
    name: "socket2web_principal_sessions_total",
    help: "Finished sessions by principal (names the access file gives; every other principal is 'other')",
    labelNames: ["principal"],
    registers: [registry],
  });
  const principalRefusals = new Counter({
    name: "socket2web_principal_refused_total",
    help: "Sessions refused once their principal was known, by principal and reason",
    labelNames: ["principal", "reason"],
    registers: [registry],
  });
  const principalBytes = new Counter({
    name: "socket2web_principal_bytes_total",
    help: "Payload bytes of finished sessions, by principal and direction",
    labelNames: ["principal", "direction"],
    registers: [registry],
  });
  const principalSeconds = new Counter({
    name: "socket2web_principal_session_seconds_total",
    help: "Seconds sessions lasted, added when each finishes, by principal",
    labelNames: ["principal"],
    registers: [registry],
  });
  const accessReloadFailures = new Counter({
    name: "socket2web_access_reload_failures_total",
    help: "Reloads of the --access file that did not parse or validate (the old rules stayed)",
    registers: [registry],
  });
  const duration = new Histogram({
    name: "socket2web_session_duration_seconds",
    help: "Session lifetime from the WebSocket opening to its close, by protocol",
    labelNames: ["protocol"],
    buckets: SESSION_BUCKETS,
    registers: [registry],
  });

  return {
    contentType: registry.contentType,
    sessionFinished(session) {
      addBytes(finishedBytes, session);
      sessions.inc({
        frontend: frontEndOf(session.frontEnd),
        close_code: closeCodeLabel(session.closeCode),
        closed_by: closedByLabel(session.closedBy),
      });
      if (session.error) errors.inc({ error: errorOf(session.error) });
      const principal = principalOf(session.principal);
      principalSessions.inc({ principal });
      principalBytes.inc({ principal, direction: "client_to_target" }, session.bytesFromClient);
      principalBytes.inc({ principal, direction: "target_to_client" }, session.bytesFromTarget);
      principalSeconds.inc({ principal }, session.durationSeconds ?? 0);
      if (session.durationSeconds !== undefined) {
        duration.observe({ protocol: protocolOf(session.protocol) }, session.durationSeconds);
      }
      if (session.dropped?.toClient) {
        dropped.inc({ direction: "target_to_client" }, session.dropped.toClient);
      }
      if (session.dropped?.toTarget) {
        dropped.inc({ direction: "client_to_target" }, session.dropped.toTarget);
      }
    },
    refused(reason, frontEnd) {
      refusals.inc({
        frontend: frontEndOf(frontEnd),
        reason: (REFUSAL_REASONS as readonly string[]).includes(reason) ? reason : OTHER,
      });
    },
    principalRefused(principal, reason) {
      principalRefusals.inc({
        principal: principalOf(principal),
        reason: (REFUSAL_REASONS as readonly string[]).includes(reason) ? reason : OTHER,
      });
    },
    accessReloadFailed() {
      accessReloadFailures.inc();
    },
    handshakeReceived(seconds) {
      handshake.observe(seconds);
    },
    targetConnect(protocol, seconds, outcome) {
      connect.observe(
        {
          protocol: protocolOf(protocol),
          outcome: (CONNECT_OUTCOMES as readonly string[]).includes(outcome) ? outcome : OTHER,
        },
        seconds,
      );
    },
    captureWritten(bytes) {
      captureBytes.inc(bytes);
    },
    captureSkipped() {
      captureSkipped.inc();
    },
    render: () => registry.metrics(),
    snapshot: () => registry.getMetricsAsJSON(),
  };
};
