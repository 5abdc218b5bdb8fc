// Workloads 1 and 2 (and set-up latency) for every row: one row process per (repeat, row), then
// one client process per workload against it, with the proxy's CPU time (/proc) read around
// each so that CPU per MiB, per round trip and per session is known for every row.
import type { ClientJob } from "../client/main.ts";
import type { BenchConfig } from "../config.ts";
import { treeCpu } from "../lib/cpu-time.ts";
import { slot } from "../lib/records.ts";
import type { LatencyRun, Mode, Results, SetupRun, ThroughputRun } from "../results.ts";
import type { Row, RowContext, RunningRow } from "../rows/row.ts";
import { runClient } from "./client.ts";
import { type Budget, rotate } from "./clock.ts";

const MODES: Mode[] = ["echo", "upload", "download"];
const MiB = 1024 * 1024;
const newRuns = () => ({ runs: [] as ThroughputRun[], errors: [] as string[] });
/** Forking rows reap a connection's child (and count its CPU) shortly after it ends. */
const REAP_MS = 100;

/** Runs one client job; returns its result lines and the proxy's CPU seconds meanwhile. */
async function measured(
  running: RunningRow,
  job: ClientJob,
  timeoutMs: number,
): Promise<{ lines: Record<string, unknown>[]; cpuSeconds: number | undefined }> {
  const pid = running.pid;
  const before = pid === null ? null : treeCpu(pid);
  const lines = await runClient(job, timeoutMs);
  if (pid === null || before === null) return { lines, cpuSeconds: undefined };
  await Bun.sleep(REAP_MS);
  const after = treeCpu(pid);
  return { lines, cpuSeconds: after.user + after.system - before.user - before.system };
}

export async function streamPhase(
  rows: readonly Row[],
  ctx: RowContext,
  config: BenchConfig,
  budget: Budget,
  results: Results,
  log: (line: string) => void,
): Promise<void> {
  const base = {
    kind: "stream" as const,
    throughput: config.throughput,
    connectTimeoutMs: 10_000,
  };
  for (let rep = 0; rep < config.repeats; rep++) {
    for (const row of rotate(rows, rep)) {
      const throughput = slot(results.throughput, row.id, () => ({}));
      const latency = slot(results.latency, row.id, () => ({
        runs: [] as LatencyRun[],
        errors: [] as string[],
      }));
      const setup = slot(results.setup, row.id, () => ({
        runs: [] as SetupRun[],
        errors: [] as string[],
      }));
      if (!budget.allows(20_000)) {
        latency.errors.push(`repeat ${rep + 1} skipped: time budget`);
        continue;
      }
      let running: RunningRow | undefined;
      const parts: string[] = [];
      try {
        running = await row.start(ctx);
        for (const mode of MODES) {
          const job: ClientJob = {
            ...base,
            endpoint: running.endpoint,
            modes: [mode],
            latency: null,
          };
          const { lines, cpuSeconds } = await measured(
            running,
            job,
            config.throughput.timeoutMs + 10_000,
          );
          const runs = slot(throughput, mode, newRuns);
          for (const line of lines) {
            if (typeof line.error === "string") {
              runs.errors.push(line.error);
              parts.push(`${mode} FAILED: ${line.error.split("\n")[0]}`);
              continue;
            }
            const run = line as unknown as ThroughputRun;
            if (!run.digestOk) runs.errors.push("SHA-256 mismatch");
            else if (run.extensions) runs.errors.push(`negotiated extensions: ${run.extensions}`);
            else {
              runs.runs.push({
                mibPerSecond: run.mibPerSecond,
                clientCpu: run.clientCpu,
                digestOk: true,
                extensions: run.extensions,
                ...(cpuSeconds === undefined
                  ? {}
                  : {
                      proxyCpuMsPerMiB: (cpuSeconds * 1000) / (config.throughput.totalBytes / MiB),
                    }),
              });
              parts.push(`${mode} ${run.mibPerSecond.toFixed(0)} MiB/s`);
            }
          }
        }
        {
          const job: ClientJob = {
            ...base,
            endpoint: running.endpoint,
            modes: [],
            latency: config.latency,
          };
          const { lines, cpuSeconds } = await measured(
            running,
            job,
            config.latency.timeoutMs + 10_000,
          );
          for (const line of lines) {
            if (typeof line.error === "string") {
              latency.errors.push(line.error);
              parts.push(`latency FAILED: ${line.error.split("\n")[0]}`);
              continue;
            }
            const run = line as unknown as LatencyRun;
            const trips = config.latency.roundTrips + config.latency.warmup;
            latency.runs.push({
              p50: run.p50,
              p99: run.p99,
              p999: run.p999,
              mean: run.mean,
              max: run.max,
              ...(cpuSeconds === undefined
                ? {}
                : { proxyCpuUsPerRoundTrip: (cpuSeconds * 1e6) / trips }),
            });
            parts.push(`p50 ${run.p50.toFixed(0)} µs p99 ${run.p99.toFixed(0)} µs`);
          }
        }
        if (running.endpoint.dialect === "s2w") {
          const job: ClientJob = {
            ...base,
            endpoint: running.endpoint,
            modes: [],
            latency: null,
            setup: config.setup,
          };
          const { lines, cpuSeconds } = await measured(running, job, 60_000);
          for (const line of lines) {
            if (typeof line.error === "string") {
              setup.errors.push(line.error);
              parts.push(`set-up FAILED: ${line.error.split("\n")[0]}`);
              continue;
            }
            const run = line as unknown as SetupRun;
            const sessions = config.setup.sessions + config.setup.warmup;
            setup.runs.push({
              sessions: run.sessions,
              p50: run.p50,
              p99: run.p99,
              ...(cpuSeconds === undefined
                ? {}
                : { proxyCpuUsPerSession: (cpuSeconds * 1e6) / sessions }),
            });
            parts.push(`set-up p50 ${run.p50.toFixed(0)} µs p99 ${run.p99.toFixed(0)} µs`);
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
