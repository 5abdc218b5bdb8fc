// The shape of docs/benchmarks/results*.json: raw runs, from which the report takes medians.
import type { BenchConfig } from "./config.ts";
import type { WispResults } from "./phases/wisp.ts";
import type { Machine } from "./report/machine.ts";

export interface ThroughputRun {
  mibPerSecond: number;
  /** CPU the load client used during the run, as a share of one core. */
  clientCpu: number;
  digestOk: boolean;
  extensions: string | null;
  /** Proxy CPU (user + system, /proc) per MiB of payload, ms; absent for direct. */
  proxyCpuMsPerMiB?: number;
}

export interface LatencyRun {
  p50: number;
  p99: number;
  p999: number;
  mean: number;
  max: number;
  /** Proxy CPU per round trip (warm-up included), µs. */
  proxyCpuUsPerRoundTrip?: number;
}

/** Upgrade → `connected` status, sequential sessions at low load (Socket2Web-protocol rows). */
export interface SetupRun {
  sessions: number;
  p50: number;
  p99: number;
  /** Proxy CPU per session (set up and closed), µs. */
  proxyCpuUsPerSession?: number;
}

export interface SessionRun {
  established: number;
  failures: number;
  failureReasons: Record<string, number>;
  sessionsPerSecond: number;
  setupSeconds: number;
  /** Median dial → first echoed byte, ms (absent in results from before it was measured). */
  firstByteP50Ms?: number;
  /** Proxy CPU of the first cycle (open, echo, idle, close) per established session, µs. */
  proxyCpuUsPerSession?: number;
  /** Proxy process tree memory, bytes (null for direct: there is no proxy). */
  memory: null | {
    idleRss: number;
    plateauRss: number;
    afterRss: number;
    idlePss: number;
    plateauPss: number;
    afterPss: number;
    /** Milliseconds waited after close before the last sample. */
    afterWaitMs: number;
    processesAtPlateau: number;
    /** Leak check (largest count only): the same open → close cycle again on the same process. */
    secondPlateauRss?: number;
    secondAfterRss?: number;
    /** Leak check: RSS after close of every cycle on the same process, first one included. */
    cycleAfterRss?: number[];
    cyclePlateauRss?: number[];
  };
}

export interface SessionSlot {
  runs: SessionRun[];
  errors: string[];
  skipped?: string;
}

export interface StartupRuns {
  /** Spawn → first accepted TCP connection, ms. */
  acceptMs: number[];
  /** Spawn → greeting received on a WebSocket, ms. */
  greetingMs: number[];
  failures: string[];
}

export interface RowInfo {
  id: string;
  label: string;
  unavailable: string | null;
}

export type Mode = "echo" | "upload" | "download";

export interface Results {
  startedAt: string;
  finishedAt: string;
  config: BenchConfig;
  machine: Machine;
  rows: RowInfo[];
  throughput: Record<string, Partial<Record<Mode, { runs: ThroughputRun[]; errors: string[] }>>>;
  latency: Record<string, { runs: LatencyRun[]; errors: string[] }>;
  setup: Record<string, { runs: SetupRun[]; errors: string[] }>;
  /** Row id → session count → runs. */
  sessions: Record<
    string,
    Record<string, { runs: SessionRun[]; errors: string[]; skipped?: string }>
  >;
  startup: Record<string, StartupRuns>;
  /** The Wisp row (phases/wisp.ts), when that phase ran. */
  wisp?: WispResults;
  notes: string[];
}
