// Workloads 1 and 2 for every row: one row process per (repeat, row), then one client
// process running echo, upload, download and the latency series against it.
import type { BenchConfig } from "../config.ts";
import { slot } from "../lib/records.ts";
import type { LatencyRun, Mode, Results, ThroughputRun } from "../results.ts";
import type { Row, RowContext } from "../rows/row.ts";
import { runClient } from "./client.ts";
import { type Budget, rotate } from "./clock.ts";

const MODES: Mode[] = ["echo", "upload", "download"];
const newRuns = () => ({ runs: [] as ThroughputRun[], errors: [] as string[] });

export async function streamPhase(
  rows: readonly Row[],
  ctx: RowContext,
  config: BenchConfig,
  budget: Budget,
  results: Results,
  log: (line: string) => void,
): Promise<void> {
  const clientTimeout =
    MODES.length * config.throughput.timeoutMs + config.latency.timeoutMs + 10_000;
  for (let rep = 0; rep < config.repeats; rep++) {
    for (const row of rotate(rows, rep)) {
      const throughput = slot(results.throughput, row.id, () => ({}));
      const latency = slot(results.latency, row.id, () => ({
        runs: [] as LatencyRun[],
        errors: [] as string[],
      }));
      if (!budget.allows(20_000)) {
        latency.errors.push(`repeat ${rep + 1} skipped: time budget`);
        continue;
      }
      let running: Awaited<ReturnType<Row["start"]>> | undefined;
      try {
        running = await row.start(ctx);
        const lines = await runClient(
          {
            kind: "stream",
            endpoint: running.endpoint,
            modes: MODES,
            throughput: config.throughput,
            latency: config.latency,
            connectTimeoutMs: 10_000,
          },
          clientTimeout,
        );
        const parts: string[] = [];
        for (const line of lines) {
          if (line.workload === "throughput") {
            const mode = line.mode as Mode;
            const runs = slot(throughput, mode, newRuns);
            if (typeof line.error === "string") runs.errors.push(line.error);
            else {
              const run = line as unknown as ThroughputRun;
              if (!run.digestOk) runs.errors.push("SHA-256 mismatch");
              else if (run.extensions) runs.errors.push(`negotiated extensions: ${run.extensions}`);
              else
                runs.runs.push({
                  mibPerSecond: run.mibPerSecond,
                  clientCpu: run.clientCpu,
                  digestOk: true,
                  extensions: run.extensions,
                });
              parts.push(`${mode} ${run.mibPerSecond.toFixed(0)} MiB/s`);
            }
          } else if (line.workload === "latency") {
            if (typeof line.error === "string") latency.errors.push(line.error);
            else {
              const run = line as unknown as LatencyRun;
              latency.runs.push({
                p50: run.p50,
                p99: run.p99,
                p999: run.p999,
                mean: run.mean,
                max: run.max,
              });
              parts.push(`p50 ${run.p50.toFixed(0)} µs p99 ${run.p99.toFixed(0)} µs`);
            }
          } else if (typeof line.error === "string") {
            latency.errors.push(line.error);
          }
        }
        log(`  [${rep + 1}/${config.repeats}] ${row.id.padEnd(15)} ${parts.join(", ")}`);
      } catch (error) {
        const text = error instanceof Error ? error.message : String(error);
        latency.errors.push(text);
        for (const mode of MODES) slot(throughput, mode, newRuns).errors.push(text);
        log(`  [${rep + 1}/${config.repeats}] ${row.id.padEnd(15)} FAILED: ${text.split("\n")[0]}`);
      } finally {
        await running?.stop();
      }
    }
  }
}
