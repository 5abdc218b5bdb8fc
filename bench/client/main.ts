// The load client: a process of its own, apart from the proxy and the target.
// argv[2] is a JSON job; results are printed as `RESULT <json>` lines.
//   stream:   throughput (echo, upload, download) then latency, one connection each.
//   sessions: opens N sessions, prints RESULT, waits for "close" on stdin, closes them,
//             prints `CLOSED <n>`.
//   churn:    session set-ups closed at once, at each given concurrency (one RESULT each).
//   upgrades: bare WebSocket upgrades, one at a time then concurrent (one RESULT).
//   redis-rtt: Redis round trips from Bun's RedisClient, one command at a time (one RESULT).

import { type ChurnOptions, runChurn } from "../workloads/churn.ts";
import { type LatencyOptions, runLatency } from "../workloads/latency.ts";
import { type RoundTripOptions, runRedisRoundTrips } from "../workloads/redis-round-trip.ts";
import { closeSessions, openSessions, type SessionsOptions } from "../workloads/sessions.ts";
import { runSetup, type SetupOptions } from "../workloads/setup.ts";
import {
  runThroughput,
  type ThroughputMode,
  type ThroughputOptions,
} from "../workloads/throughput.ts";
import { runUpgrades, type UpgradesOptions } from "../workloads/upgrades.ts";
import { dial } from "./dial.ts";
import type { Endpoint } from "./endpoint.ts";

export type ClientJob =
  | {
      kind: "stream";
      endpoint: Endpoint;
      modes: ThroughputMode[];
      throughput: ThroughputOptions;
      latency: LatencyOptions | null;
      /** Upgrade → connected latency (Socket2Web-protocol rows only). */
      setup?: SetupOptions | null;
      connectTimeoutMs: number;
    }
  | { kind: "sessions"; endpoint: Endpoint; sessions: SessionsOptions }
  | { kind: "churn"; endpoint: Endpoint; churn: ChurnOptions[] }
  | { kind: "redis-rtt"; roundTrips: RoundTripOptions }
  | { kind: "upgrades"; upgrades: UpgradesOptions };

function emit(value: unknown): void {
  console.log(`RESULT ${JSON.stringify(value)}`);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function stream(job: Extract<ClientJob, { kind: "stream" }>): Promise<void> {
  for (const mode of job.modes) {
    try {
      const conn = await dial(job.endpoint, job.connectTimeoutMs);
      const extensions = conn.extensions;
      const cpuBefore = process.cpuUsage();
      const result = await runThroughput(conn, mode, job.throughput);
      const cpu = process.cpuUsage(cpuBefore);
      // Share of one core this client used: near 1.0 would make the client the bottleneck.
      const clientCpu = (cpu.user + cpu.system) / 1e6 / result.seconds;
      conn.close();
      emit({ workload: "throughput", ...result, extensions, clientCpu });
    } catch (error) {
      emit({ workload: "throughput", mode, error: message(error) });
    }
  }
  if (job.latency) {
    try {
      const conn = await dial(job.endpoint, job.connectTimeoutMs);
      const result = await runLatency(conn, job.latency);
      conn.close();
      emit({ workload: "latency", ...result });
    } catch (error) {
      emit({ workload: "latency", error: message(error) });
    }
  }
  if (job.setup) {
    try {
      emit({ workload: "setup", ...(await runSetup(job.endpoint, job.setup)) });
    } catch (error) {
      emit({ workload: "setup", error: message(error) });
    }
  }
}

async function sessions(job: Extract<ClientJob, { kind: "sessions" }>): Promise<void> {
  const { conns, result } = await openSessions(job.endpoint, job.sessions);
  emit({ workload: "sessions", ...result });
  const reader = Bun.stdin.stream().getReader();
  const decoder = new TextDecoder();
  let input = "";
  while (!input.includes("close")) {
    const { value, done } = await reader.read();
    if (done) break;
    input += decoder.decode(value);
  }
  const closed = await closeSessions(conns, 5000);
  console.log(`CLOSED ${closed}`);
}

const job = JSON.parse(process.argv[2] ?? "{}") as ClientJob;
if (job.kind === "stream") await stream(job);
else if (job.kind === "sessions") await sessions(job);
else if (job.kind === "churn") {
  for (const options of job.churn)
    emit({ workload: "churn", ...(await runChurn(job.endpoint, options)) });
} else if (job.kind === "redis-rtt") {
  emit({ workload: "redis-rtt", roundTrips: await runRedisRoundTrips(job.roundTrips) });
} else if (job.kind === "upgrades") {
  emit({ workload: "upgrades", ...(await runUpgrades(job.upgrades)) });
} else throw new Error(`unknown job ${process.argv[2]}`);
process.exit(0);
