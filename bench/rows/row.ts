// A row of the results table: one way for a client to reach the target.
import type { Endpoint } from "../client/endpoint.ts";

export const ROOT = new URL("../../", import.meta.url).pathname;
export const BUN = process.execPath;

export interface RowContext {
  targetHost: string;
  targetPort: number;
  /** The same target behind TLS (a self-signed certificate), for the tls adapter's row. */
  targetTlsPort: number;
  /** That certificate, for `--tls-target-ca`. */
  targetCaFile: string;
}

export interface RunningRow {
  endpoint: Endpoint;
  /** Root process whose tree is the proxy (memory is measured on it); null for direct. */
  pid: number | null;
  stop(): Promise<void>;
}

export interface Row {
  id: string;
  label: string;
  /** Null when the row can run here, else why not. */
  unavailable(): string | null;
  start(ctx: RowContext): Promise<RunningRow>;
  /** Largest session count worth trying, and why no larger one is (said in the report). */
  maxSessions?: { readonly count: number; readonly why: string };
  /** Forks a process per connection: nothing stays behind after close, so no leak cycle. */
  forks?: boolean;
  /** Left out of a run unless `--rows` names it (the client commands' rows: two processes each). */
  optIn?: boolean;
  /** A variant measured for session set-up only (its data path is another row's). */
  sessionsOnly?: boolean;
}

/** How long any row may take to start listening. */
export const START_TIMEOUT_MS = 15_000;
