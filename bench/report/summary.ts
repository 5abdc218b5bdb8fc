// Medians (with min–max) of the raw runs in Results, per row: what the report and the
// target checks read.

import { type Spread, spread } from "../lib/stats.ts";
import type { Mode, Results } from "../results.ts";

export const MODES: Mode[] = ["echo", "upload", "download"];

export interface SessionSummary {
  count: number;
  sessionsPerSecond: Spread | null;
  /** Median over runs of each run's p50 dial → first echoed byte, ms. */
  firstByteP50Ms: Spread | null;
  failures: Spread | null;
  established: Spread | null;
  idleRss: Spread | null;
  plateauRss: Spread | null;
  afterRss: Spread | null;
  /** (plateau − idle) / established, bytes; PSS-based for forking rows (socat, websockify). */
  perSessionBytes: Spread | null;
  /** after / idle − 1 (RSS). */
  afterVsIdle: Spread | null;
  /** Second cycle's plateau − first cycle's plateau, RSS bytes (leak check; largest count). */
  secondCycleGrowth: Spread | null;
  /** (plateau − idle) PSS / established, bytes, for every row (the memory target's measure). */
  perSessionPss: Spread | null;
  /** RSS after the last cycle's close / after the first cycle's close − 1 (leak check). */
  lastCycleVsFirst: Spread | null;
  /** Cycles run on one process at this count (1 when there was no leak check). */
  cycles: number;
  /** Proxy CPU per session over the first cycle (open, echo, idle, close), µs. */
  cpuUsPerSession: Spread | null;
  usesPss: boolean;
  skipped?: string;
  errors: string[];
}

export interface RowSummary {
  id: string;
  label: string;
  unavailable: string | null;
  throughput: Record<Mode, Spread | null>;
  throughputErrors: string[];
  /** The load client's CPU during throughput runs, share of one core (all modes). */
  clientCpu: Spread | null;
  /** Proxy CPU per MiB of payload, ms, per mode. */
  cpuMsPerMiB: Record<Mode, Spread | null>;
  /** Proxy CPU per 64-byte round trip, µs. */
  cpuUsPerRoundTrip: Spread | null;
  /** Upgrade → connected at low load, µs, and the proxy CPU per such session. */
  setup: { p50: Spread | null; p99: Spread | null; cpuUsPerSession: Spread | null };
  setupErrors: string[];
  latency: { p50: Spread | null; p99: Spread | null; p999: Spread | null };
  latencyErrors: string[];
  sessions: SessionSummary[];
  startupAcceptMs: Spread | null;
  startupGreetingMs: Spread | null;
}

/** Forking relays: one process per connection, so RSS double-counts shared pages; use PSS. */
const FORKING = new Set(["socat", "websockify"]);

export function summarize(results: Results): RowSummary[] {
  return results.rows.map((row) => {
    const tp = results.throughput[row.id] ?? {};
    const lat = results.latency[row.id] ?? { runs: [], errors: [] };
    const throughput = {} as Record<Mode, Spread | null>;
    const cpuMsPerMiB = {} as Record<Mode, Spread | null>;
    const throughputErrors: string[] = [];
    for (const mode of MODES) {
      throughput[mode] = spread((tp[mode]?.runs ?? []).map((r) => r.mibPerSecond));
      cpuMsPerMiB[mode] = spread(
        (tp[mode]?.runs ?? []).map((r) => r.proxyCpuMsPerMiB ?? Number.NaN),
      );
      for (const e of tp[mode]?.errors ?? []) throughputErrors.push(`${mode}: ${e}`);
    }
    const usesPss = FORKING.has(row.id);
    const sessions: SessionSummary[] = Object.entries(results.sessions[row.id] ?? {})
      .map(([count, slot]) => {
        const runs = slot.runs;
        const mem = runs.flatMap((r) => (r.memory ? [{ r, m: r.memory }] : []));
        const summary: SessionSummary = {
          count: Number(count),
          sessionsPerSecond: spread(runs.map((r) => r.sessionsPerSecond)),
          firstByteP50Ms: spread(runs.map((r) => r.firstByteP50Ms ?? Number.NaN)),
          failures: spread(runs.map((r) => r.failures)),
          established: spread(runs.map((r) => r.established)),
          idleRss: spread(mem.map(({ m }) => (usesPss ? m.idlePss : m.idleRss))),
          plateauRss: spread(mem.map(({ m }) => (usesPss ? m.plateauPss : m.plateauRss))),
          afterRss: spread(mem.map(({ m }) => (usesPss ? m.afterPss : m.afterRss))),
          perSessionBytes: spread(
            mem.map(({ r, m }) =>
              r.established > 0
                ? (usesPss ? m.plateauPss - m.idlePss : m.plateauRss - m.idleRss) / r.established
                : Number.NaN,
            ),
          ),
          afterVsIdle: spread(mem.map(({ m }) => m.afterRss / m.idleRss - 1)),
          secondCycleGrowth: spread(
            mem.map(({ m }) =>
              m.secondPlateauRss === undefined ? Number.NaN : m.secondPlateauRss - m.plateauRss,
            ),
          ),
          perSessionPss: spread(
            mem.map(({ r, m }) =>
              r.established > 0 ? (m.plateauPss - m.idlePss) / r.established : Number.NaN,
            ),
          ),
          lastCycleVsFirst: spread(
            mem.map(({ m }) => {
              const after = m.cycleAfterRss;
              if (!after || after.length < 2) return Number.NaN;
              return (after[after.length - 1] as number) / (after[0] as number) - 1;
            }),
          ),
          cycles: Math.max(1, ...mem.map(({ m }) => m.cycleAfterRss?.length ?? 1)),
          cpuUsPerSession: spread(runs.map((r) => r.proxyCpuUsPerSession ?? Number.NaN)),
          usesPss,
          errors: slot.errors,
        };
        if (slot.skipped) summary.skipped = slot.skipped;
        return summary;
      })
      .sort((a, b) => a.count - b.count);
    const startup = results.startup[row.id];
    const setup = results.setup?.[row.id] ?? { runs: [], errors: [] };
    return {
      id: row.id,
      label: row.label,
      unavailable: row.unavailable,
      throughput,
      throughputErrors,
      clientCpu: spread(MODES.flatMap((mode) => (tp[mode]?.runs ?? []).map((r) => r.clientCpu))),
      cpuMsPerMiB,
      cpuUsPerRoundTrip: spread(lat.runs.map((r) => r.proxyCpuUsPerRoundTrip ?? Number.NaN)),
      setup: {
        p50: spread(setup.runs.map((r) => r.p50)),
        p99: spread(setup.runs.map((r) => r.p99)),
        cpuUsPerSession: spread(setup.runs.map((r) => r.proxyCpuUsPerSession ?? Number.NaN)),
      },
      setupErrors: setup.errors,
      latency: {
        p50: spread(lat.runs.map((r) => r.p50)),
        p99: spread(lat.runs.map((r) => r.p99)),
        p999: spread(lat.runs.map((r) => r.p999)),
      },
      latencyErrors: lat.errors,
      sessions,
      startupAcceptMs: startup ? spread(startup.acceptMs) : null,
      startupGreetingMs: startup ? spread(startup.greetingMs) : null,
    };
  });
}

export function byId(rows: RowSummary[], id: string): RowSummary | undefined {
  return rows.find((r) => r.id === id);
}

export function sessionsAt(row: RowSummary | undefined, count: number): SessionSummary | undefined {
  return row?.sessions.find((s) => s.count === count);
}
