// What a full run and a quick run measure. Every count here bounds a loop.

export interface BenchConfig {
  quick: boolean;
  /** Repeats of every measurement; rows rotate between repeats so drift hits all alike. */
  repeats: number;
  throughput: { totalBytes: number; chunkBytes: number; windowBytes: number; timeoutMs: number };
  latency: { roundTrips: number; warmup: number; messageBytes: number; timeoutMs: number };
  /** Upgrade → connected, sequential sessions at low load. */
  setup: { sessions: number; warmup: number; timeoutMs: number };
  sessions: {
    counts: number[];
    repeats: number;
    concurrency: number;
    echoBytes: number;
    perSessionTimeoutMs: number;
    phaseTimeoutMs: number;
    /** How long sessions idle before the plateau sample, and after close before the last one. */
    settleMs: number;
    /** Sessions opened and closed on a fresh row before its idle sample (JIT warm-up, as in production). */
    warmupSessions: number;
    /** Open → close cycles per run at the largest count (more than one: RSS after the last vs after the first checks for leaks). */
    leakCycles: number;
  };
  startup: { runs: number; sourceRuns: number; timeoutMs: number };
  /** Hard stop for the whole bench; phases that would start after it are skipped. */
  budgetMs: number;
}

const MiB = 1024 * 1024;

export function benchConfig(quick: boolean): BenchConfig {
  return {
    quick,
    repeats: quick ? 1 : 3,
    throughput: {
      totalBytes: (quick ? 64 : 256) * MiB,
      chunkBytes: 64 * 1024,
      windowBytes: 2 * MiB,
      timeoutMs: quick ? 15_000 : 30_000,
    },
    latency: {
      roundTrips: quick ? 5_000 : 20_000,
      warmup: 500,
      messageBytes: 64,
      timeoutMs: quick ? 15_000 : 30_000,
    },
    setup: { sessions: quick ? 300 : 500, warmup: 100, timeoutMs: 10_000 },
    sessions: {
      counts: quick ? [1_000] : [1_000, 5_000, 10_000],
      repeats: quick ? 1 : 3,
      concurrency: 256,
      echoBytes: 1024,
      perSessionTimeoutMs: 10_000,
      phaseTimeoutMs: quick ? 15_000 : 30_000,
      settleMs: quick ? 500 : 800,
      leakCycles: quick ? 1 : 5,
      warmupSessions: 300,
    },
    startup: { runs: quick ? 5 : 20, sourceRuns: quick ? 3 : 5, timeoutMs: 5_000 },
    // Both the Wisp phase and the extra rows (tls, url, route) and the lean relay with 5 leak cycles.
    budgetMs: quick ? 170_000 : 1_320_000,
  };
}
