// A compact table for the terminal at the end of a run: medians and ratios to socat,
// websockify and direct.
import { byId, MODES, type RowSummary } from "./summary.ts";

function n(v: number | undefined, digits = 0): string {
  return v === undefined ? "—" : v.toFixed(digits);
}

function r(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined || b === 0 ? "—" : `${(a / b).toFixed(2)}×`;
}

export function consoleSummary(rows: RowSummary[]): string[] {
  const shown = rows.filter((x) => !x.unavailable);
  const socat = byId(rows, "socat");
  const wsfy = byId(rows, "websockify");
  const direct = byId(rows, "direct");
  const out: string[] = [
    "row               echo/upload/download MiB/s      ×socat            ×websockify       ×direct           p50/p99 µs   sessions/s @1k  CPU µs/session @1k",
  ];
  for (const row of shown) {
    const tp = MODES.map((m) => n(row.throughput[m]?.median)).join("/");
    const ratios = (peer: RowSummary | undefined) =>
      MODES.map((m) => r(row.throughput[m]?.median, peer?.throughput[m]?.median)).join("/");
    const at1k = row.sessions.find((s) => s.count === 1000);
    const s1k = at1k?.sessionsPerSecond?.median;
    out.push(
      [
        row.id.padEnd(17),
        tp.padEnd(31),
        ratios(socat).padEnd(17),
        ratios(wsfy).padEnd(17),
        ratios(direct).padEnd(17),
        `${n(row.latency.p50?.median)}/${n(row.latency.p99?.median)}`.padEnd(12),
        n(s1k).padEnd(15),
        n(at1k?.cpuUsPerSession?.median),
      ].join(" "),
    );
  }
  return out;
}
