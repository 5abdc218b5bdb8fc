// Shared state on Redis: the same socket2web with its address limits in process and with
// `--state redis://…` against a real redis-server (Debian's) on loopback, in one run, rows
// alternated (each build's two rows next to each other, in turn first), medians of the repeats.
// Measured: complete session set-ups per second at a fixed concurrency; set-up latency at that
// concurrency and one at a time, split at the WebSocket's open; upgrades alone; CPU per session
// of the proxy and of redis-server; the Redis commands each session cost (INFO commandstats).
// Then the side measurements of state-probes.ts, and the round trip alone from Bun's RedisClient.
import { existsSync, readFileSync } from "node:fs";
import type { Endpoint } from "../client/endpoint.ts";
import { treeCpu } from "../lib/cpu-time.ts";
import type { Tracked } from "../lib/procs.ts";
import {
  type BenchRedis,
  type CommandStats,
  commandDelta,
  type RedisSnapshot,
  redisCli,
  redisSnapshot,
  redisUnavailable,
  startBenchRedis,
} from "../lib/redis.ts";
import { median } from "../lib/stats.ts";
import type { WireCount } from "../lib/wire.ts";
import { startListening } from "../rows/listening.ts";
import { BUN, ROOT, type RowContext } from "../rows/row.ts";
import { BINARY, SOURCE_ENTRY, socket2webArgs } from "../rows/socket2web.ts";
import { UPGRADE_WAITS, type UpgradeWait } from "../servers/upgrade-await.ts";
import type { ChurnOptions, ChurnResult } from "../workloads/churn.ts";
import type { RoundTrip } from "../workloads/redis-round-trip.ts";
import type { UpgradesOptions, UpgradesResult } from "../workloads/upgrades.ts";
import { resultLines, spawnClient } from "./client.ts";
import { type Budget, rotate } from "./clock.ts";
import { type UpgradeAwaitRun, upgradeAfter, wireCheck } from "./state-probes.ts";

/** Limits on, and high enough that no set-up of the run is refused. */
const PER_IP = 10_000;
const RATE = 100_000;

export interface StateOptions {
  quick: boolean;
  repeats?: number;
  sessions?: number;
}

export interface StateConfig {
  repeats: number;
  /** Set-ups per run at `concurrency`. */
  sessions: number;
  concurrency: number;
  /** Set-ups one at a time, after those. */
  sequential: number;
  /** Set-ups on a fresh proxy before anything is measured (JIT, Redis connection warm). */
  warmup: number;
  perIp: number;
  rate: number;
}

export interface StateRun {
  /** Which repeat (from 0): the runs of one repeat ran next to each other. */
  repeat: number;
  concurrent: ChurnResult;
  sequential: ChurnResult;
  /** Over the concurrent part: CPU seconds (user + system) per established session, µs. */
  proxyCpuUsPerSession: number;
  redisCpuUsPerSession: number;
  /** Redis commands over all three parts, releases included (waited for), the harness's own left out. */
  commands: CommandStats;
  /**
   * Socket reads and writes of Redis over the same time, the harness's own left out: fewer reads
   * than commands sent means the client pipelined them.
   */
  reads: number;
  writes: number;
  /** Sessions established in all three parts (what `commands` is divided by). */
  sessions: number;
  /** Upgrades alone (no greeting, no handshake), one at a time, each close awaited: dial → open. */
  upgradeOnly: { p50Us: number; p99Us: number };
  /** Over the concurrent part, cores busy (CPU seconds per second). */
  cores: { proxy: number; redis: number; client: number };
  load: { before: number; after: number };
  /**
   * What the proxy logged (at warn) of its state store, during warm-up and while measured:
   * "Redis unreachable" means admissions counted in process until it reconnected.
   */
  warnings: { warmup: string[]; measured: string[] };
}

export interface StateRow {
  id: string;
  label: string;
  command: string[];
  entry: string;
  redis: boolean;
}

export interface StateResults {
  startedAt: string;
  finishedAt: string;
  config: StateConfig;
  machine: { nproc: number; cpuModel: string; bun: string; redis: string; socket2web: string };
  load: { before: number; after: number };
  rows: { id: string; label: string; redis: boolean; unavailable: string | null }[];
  runs: Record<string, StateRun[]>;
  /** Bare Bun upgrades after each kind of wait (servers/upgrade-await.ts), per repeat. */
  upgradeAwait: Partial<Record<UpgradeWait, UpgradeAwaitRun[]>>;
  roundTrips: RoundTrip[] | null;
  /** The proxy's sockets under strace, one upgrade at a time; null without strace. */
  wire: (WireCount & { row: string }) | null;
  errors: string[];
}

const ROWS: StateRow[] = [
  {
    id: "source-local",
    label: "source, limits in process",
    command: [BUN, "run", SOURCE_ENTRY],
    entry: SOURCE_ENTRY,
    redis: false,
  },
  {
    id: "source-redis",
    label: "source, `--state redis`",
    command: [BUN, "run", SOURCE_ENTRY],
    entry: SOURCE_ENTRY,
    redis: true,
  },
  {
    id: "binary-local",
    label: "binary, limits in process",
    command: [BINARY],
    entry: BINARY,
    redis: false,
  },
  {
    id: "binary-redis",
    label: "binary, `--state redis`",
    command: [BINARY],
    entry: BINARY,
    redis: true,
  },
];

export function loadAverage(): number {
  try {
    return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  } catch {
    return Number.NaN;
  }
}

export const cpuSeconds = (pid: number): number => {
  const { user, system } = treeCpu(pid);
  return user + system;
};

/** Waits until Redis has run no new EVAL for 300 ms (the releases of closed sessions are sent after close). */
async function settled(redis: BenchRedis): Promise<RedisSnapshot> {
  const deadline = Date.now() + 5_000;
  let last = redisSnapshot(redis.port);
  let quiet = 0;
  while (quiet < 3 && Date.now() < deadline) {
    await Bun.sleep(100);
    const now = redisSnapshot(redis.port);
    quiet = (now.commands.eval?.calls ?? 0) === (last.commands.eval?.calls ?? 0) ? quiet + 1 : 0;
    last = now;
  }
  return last;
}

/** What the proxy asked of Redis between two snapshots: each redis-cli INFO of the harness is 2 reads (command, end) and 1 write. */
function proxyShare(
  before: RedisSnapshot,
  after: RedisSnapshot,
): { commands: CommandStats; reads: number; writes: number } {
  const infos = (after.commands.info?.calls ?? 0) - (before.commands.info?.calls ?? 0);
  return {
    commands: commandDelta(before.commands, after.commands),
    reads: after.reads - before.reads - 2 * infos,
    writes: after.writes - before.writes - infos,
  };
}

async function churn(
  endpoint: Endpoint,
  options: ChurnOptions,
  clients: Tracked[],
): Promise<ChurnResult> {
  const proc = spawnClient({ kind: "churn", endpoint, churn: [options] });
  clients.push(proc);
  await proc.waitForLine((l) => l.startsWith("RESULT "), 60_000);
  await proc.stop(1000);
  return resultLines(proc.output())[0] as unknown as ChurnResult;
}

const stateLines = (output: string): string[] =>
  output
    .split("\n")
    .filter((line) => /state|redis/i.test(line))
    .slice(0, 5);

async function upgrades(options: UpgradesOptions, clients: Tracked[]): Promise<UpgradesResult> {
  const proc = spawnClient({ kind: "upgrades", upgrades: options });
  clients.push(proc);
  await proc.waitForLine((l) => l.startsWith("RESULT "), 60_000);
  await proc.stop(1000);
  return resultLines(proc.output())[0] as unknown as UpgradesResult;
}

async function oneRun(
  repeat: number,
  row: StateRow,
  ctx: RowContext,
  redis: BenchRedis,
  config: StateConfig,
): Promise<StateRun> {
  redisCli(redis.port, ["FLUSHALL"]);
  const limits = [
    "--max-connections-per-ip",
    String(config.perIp),
    "--rate-limit",
    String(config.rate),
  ];
  const state = row.redis ? ["--state", redis.url] : [];
  const { proc, port } = await startListening(
    row.id,
    (p) => [...row.command, ...socket2webArgs(p), ...limits, ...state],
    { readyText: "listening on", cwd: ROOT },
  );
  const clients: Tracked[] = [];
  try {
    const endpoint: Endpoint = {
      dialect: "s2w",
      url: `ws://127.0.0.1:${port}/`,
      targetHost: ctx.targetHost,
      targetPort: ctx.targetPort,
    };
    const timeout = 10_000;
    await churn(
      endpoint,
      { sessions: config.warmup, concurrency: config.concurrency, perSessionTimeoutMs: timeout },
      clients,
    );
    const before = await settled(redis);
    const warmupOutput = proc.output().length;
    const loadBefore = loadAverage();
    const proxyBefore = cpuSeconds(proc.pid);
    const redisBefore = cpuSeconds(redis.proc.pid);
    const concurrent = await churn(
      endpoint,
      { sessions: config.sessions, concurrency: config.concurrency, perSessionTimeoutMs: timeout },
      clients,
    );
    const proxyCpu = cpuSeconds(proc.pid) - proxyBefore;
    const redisCpu = cpuSeconds(redis.proc.pid) - redisBefore;
    const busy = (seconds: number) => seconds / concurrent.seconds;
    const sequential = await churn(
      endpoint,
      { sessions: config.sequential, concurrency: 1, perSessionTimeoutMs: timeout },
      clients,
    );
    // The same as the bare Bun upgrades below: no handshake, each close awaited.
    const upgradeOnly = await upgrades(
      {
        url: endpoint.url,
        warmup: 0,
        sequential: config.sequential,
        concurrent: 0,
        concurrency: 1,
      },
      clients,
    );
    const after = await settled(redis);
    const perSession = (seconds: number) =>
      concurrent.established > 0 ? (seconds * 1e6) / concurrent.established : Number.NaN;
    return {
      repeat,
      concurrent,
      sequential,
      proxyCpuUsPerSession: perSession(proxyCpu),
      redisCpuUsPerSession: perSession(redisCpu),
      ...proxyShare(before, after),
      sessions: concurrent.established + sequential.established + config.sequential,
      upgradeOnly: { p50Us: upgradeOnly.sequentialP50Us, p99Us: upgradeOnly.sequentialP99Us },
      cores: {
        proxy: busy(proxyCpu),
        redis: busy(redisCpu),
        client: concurrent.clientCores,
      },
      load: { before: loadBefore, after: loadAverage() },
      warnings: {
        warmup: stateLines(proc.output().slice(0, warmupOutput)),
        measured: stateLines(proc.output().slice(warmupOutput)),
      },
    };
  } finally {
    for (const c of clients) await c.stop(1000);
    await proc.stop();
  }
}

export function stateConfig(options: StateOptions): StateConfig {
  return {
    repeats: options.repeats ?? (options.quick ? 1 : 5),
    sessions: options.sessions ?? (options.quick ? 1_000 : 2_000),
    concurrency: 32,
    sequential: options.quick ? 100 : 300,
    warmup: 500,
    perIp: PER_IP,
    rate: RATE,
  };
}

export async function statePhase(
  options: StateOptions,
  ctx: RowContext,
  machine: Omit<StateResults["machine"], "redis">,
  budget: Budget,
  log: (line: string) => void,
): Promise<StateResults> {
  const config = stateConfig(options);
  const noRedis = redisUnavailable();
  const rows = ROWS.map((row) => ({
    id: row.id,
    label: row.label,
    redis: row.redis,
    unavailable: noRedis ?? (existsSync(row.entry) ? null : `${row.entry} is missing`),
  }));
  const results: StateResults = {
    startedAt: new Date().toISOString(),
    finishedAt: "",
    config,
    machine: { ...machine, redis: "not run" },
    load: { before: loadAverage(), after: Number.NaN },
    rows,
    runs: {},
    upgradeAwait: {},
    roundTrips: null,
    wire: null,
    errors: [],
  };
  if (noRedis) {
    results.errors.push(noRedis);
    log(`state: not run: ${noRedis}`);
    return results;
  }
  const runnable = ROWS.filter((row) => rows.find((r) => r.id === row.id)?.unavailable === null);
  const redis = await startBenchRedis();
  results.machine.redis = redis.version;
  try {
    for (let repeat = 0; repeat < config.repeats; repeat++) {
      // Reversed every other repeat: each build's two rows run next to each other, in turn first.
      for (const row of repeat % 2 === 0 ? runnable : [...runnable].reverse()) {
        if (!budget.allows(20_000)) {
          results.errors.push(`${row.id} repeat ${repeat + 1} skipped: time budget`);
          continue;
        }
        try {
          const run = await oneRun(repeat, row, ctx, redis, config);
          const runs = results.runs[row.id] ?? [];
          results.runs[row.id] = [...runs, run];
          const evals = run.commands.eval?.calls ?? 0;
          log(
            `state ${row.id.padEnd(13)} ${run.concurrent.sessionsPerSecond.toFixed(0)}/s, ` +
              `p50/p99 ${run.concurrent.p50Ms.toFixed(2)}/${run.concurrent.p99Ms.toFixed(2)} ms, ` +
              `one at a time ${run.sequential.p50Ms.toFixed(2)}/${run.sequential.p99Ms.toFixed(2)} ms, ` +
              `${run.concurrent.failures + run.sequential.failures} failed, ` +
              `proxy ${run.proxyCpuUsPerSession.toFixed(0)} µs CPU/session, ` +
              `redis ${run.redisCpuUsPerSession.toFixed(0)} µs, ` +
              `EVAL ${(evals / run.sessions).toFixed(2)}/session in ${run.reads} reads, ` +
              `cores proxy/redis/client ${run.cores.proxy.toFixed(2)}/${run.cores.redis.toFixed(2)}/${run.cores.client.toFixed(2)}, ` +
              `load ${run.load.after}`,
          );
          for (const [when, lines] of Object.entries(run.warnings)) {
            for (const line of lines) log(`  ${row.id} logged (${when}): ${line}`);
          }
        } catch (error) {
          const text = error instanceof Error ? error.message : String(error);
          results.errors.push(`${row.id} repeat ${repeat + 1}: ${text.slice(0, 500)}`);
          log(`state ${row.id} FAILED: ${text.split("\n")[0]}`);
        }
      }
    }
    // At most 3 repeats, to keep the phase within about two minutes.
    for (let repeat = 0; repeat < Math.min(3, config.repeats); repeat++) {
      for (const wait of rotate(UPGRADE_WAITS, repeat)) {
        if (!budget.allows(10_000)) {
          results.errors.push(`upgrade after ${wait}, repeat ${repeat + 1}: time budget`);
          continue;
        }
        try {
          const run = await upgradeAfter(wait, redis, config);
          results.upgradeAwait[wait] = [...(results.upgradeAwait[wait] ?? []), run];
          log(
            `state bare upgrade after ${wait.padEnd(10)} one at a time ${run.sequentialP50Us.toFixed(0)} µs, ` +
              `${run.perSecond.toFixed(0)}/s at ${config.concurrency}, ${run.serverCpuUs.toFixed(0)} µs CPU/upgrade`,
          );
        } catch (error) {
          results.errors.push(
            `upgrade after ${wait}: ${error instanceof Error ? error.message : error}`,
          );
        }
      }
    }
    const traced =
      runnable.find((row) => row.id === "binary-redis") ?? runnable.find((r) => r.redis);
    if (traced && Bun.which("strace") && budget.allows(20_000)) {
      try {
        results.wire = { row: traced.id, ...(await wireCheck(traced, redis, config)) };
        log(`state on the wire (${traced.id}, strace): ${JSON.stringify(results.wire)}`);
      } catch (error) {
        results.errors.push(`wire check: ${error instanceof Error ? error.message : error}`);
      }
    }
    const probe = spawnClient({ kind: "redis-rtt", roundTrips: { url: redis.url, calls: 2_000 } });
    try {
      await probe.waitForLine((l) => l.startsWith("RESULT "), 60_000);
      const line = resultLines(probe.output())[0] as { roundTrips?: RoundTrip[] } | undefined;
      results.roundTrips = line?.roundTrips ?? null;
      for (const r of results.roundTrips ?? []) {
        log(
          `state round trip ${r.kind.padEnd(13)} p50 ${r.p50Us.toFixed(0)} µs, p99 ${r.p99Us.toFixed(0)} µs, ` +
            `Redis ${r.redisUsecPerCall.toFixed(1)} µs/call, ${r.requestBytes} B sent`,
        );
      }
    } catch (error) {
      results.errors.push(`round-trip probe: ${error instanceof Error ? error.message : error}`);
    } finally {
      await probe.stop(1000);
    }
    return results;
  } finally {
    results.load.after = loadAverage();
    results.finishedAt = new Date().toISOString();
    await redis.proc.stop(1000);
  }
}

export const medianOf = (runs: StateRun[], pick: (run: StateRun) => number): number =>
  median(runs.map(pick).filter((v) => Number.isFinite(v)));
