// The three plots of the report, from the summary.

import { MODES, type RowSummary } from "./summary.ts";
import { barChart, lineChart } from "./svg.ts";

export function throughputSvg(rows: RowSummary[]): string {
  const shown = rows.filter((r) => !r.unavailable);
  return barChart({
    title: "Throughput, one connection, 64 KiB messages (median, whiskers min–max)",
    unit: "MiB/s",
    groups: shown.map((r) => r.label),
    series: MODES.map((mode) => ({
      name: mode,
      bars: shown.map((r) => {
        const s = r.throughput[mode];
        return s ? { value: s.median, min: s.min, max: s.max } : { value: null };
      }),
    })),
  });
}

export function latencySvg(rows: RowSummary[]): string {
  const shown = rows.filter((r) => !r.unavailable);
  const keys = [
    ["p50", "p50"],
    ["p99", "p99"],
    ["p999", "p99.9"],
  ] as const;
  return barChart({
    title: "Round-trip latency, 64-byte messages (median of runs, log scale)",
    unit: "µs",
    log: true,
    groups: shown.map((r) => r.label),
    series: keys.map(([key, name]) => ({
      name,
      bars: shown.map((r) => {
        const s = r.latency[key];
        return s ? { value: s.median, min: s.min, max: s.max } : { value: null };
      }),
    })),
  });
}

export function memorySvg(rows: RowSummary[]): string {
  const counts = [...new Set(rows.flatMap((r) => r.sessions.map((s) => s.count)))].sort(
    (a, b) => a - b,
  );
  const shown = rows.filter((r) => r.sessions.some((s) => s.plateauRss));
  return lineChart({
    title: "Proxy memory vs concurrent sessions (median; PSS for forking relays; log scale)",
    log: true,
    xLabel: "concurrent sessions",
    yLabel: "MiB",
    xs: [0, ...counts],
    series: shown.map((r) => {
      const idle = r.sessions.find((s) => s.idleRss)?.idleRss?.median;
      return {
        name: r.id,
        points: [
          idle === undefined ? null : idle / 2 ** 20,
          ...counts.map((c) => {
            const v = r.sessions.find((s) => s.count === c)?.plateauRss?.median;
            return v === undefined ? null : v / 2 ** 20;
          }),
        ],
      };
    }),
  });
}
