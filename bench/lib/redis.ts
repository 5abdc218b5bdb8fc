// A throwaway redis-server (Debian's) for the state phase, tracked like every bench process, and
// what it says about itself through redis-cli: per-command counts and times, its CPU.
import { freePort } from "./net.ts";
import { spawnTracked, type Tracked } from "./procs.ts";

export interface BenchRedis {
  readonly port: number;
  readonly url: string;
  readonly proc: Tracked;
  readonly version: string;
}

/** Why the phase cannot run here, or null. */
export function redisUnavailable(): string | null {
  const missing = ["redis-server", "redis-cli"].filter((name) => Bun.which(name) === null);
  return missing.length === 0
    ? null
    : `${missing.join(", ")} not installed (Debian: apt-get install redis-server)`;
}

/** No persistence, loopback only, in the foreground so that stopping it is stopping the process. */
export async function startBenchRedis(): Promise<BenchRedis> {
  const port = await freePort();
  const proc = spawnTracked("redis-server", [
    "redis-server",
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--daemonize",
    "no",
  ]);
  await proc.waitForLine((line) => line.includes("Ready to accept connections"), 15_000);
  const version = /redis_version:(\S+)/.exec(redisCli(port, ["INFO", "server"]))?.[1] ?? "unknown";
  return { port, url: `redis://127.0.0.1:${port}`, proc, version };
}

export function redisCli(port: number, args: string[]): string {
  const out = Bun.spawnSync(["redis-cli", "-h", "127.0.0.1", "-p", String(port), ...args], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (out.exitCode !== 0) throw new Error(`redis-cli ${args.join(" ")}: ${out.stderr.toString()}`);
  return out.stdout.toString();
}

/** Calls and microseconds per command (`cmdstat_eval`, `cmdstat_client|list`…). */
export type CommandStats = Record<string, { calls: number; usec: number }>;

export function parseCommandStats(info: string): CommandStats {
  const stats: CommandStats = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    stats[match[1] as string] = { calls: Number(match[2]), usec: Number(match[3]) };
  }
  return stats;
}

/** Socket reads and writes Redis has done: fewer reads than commands means they came pipelined. */
export interface RedisSnapshot {
  commands: CommandStats;
  reads: number;
  writes: number;
}

export function redisSnapshot(port: number): RedisSnapshot {
  const info = redisCli(port, ["INFO", "everything"]);
  const stat = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, "m").exec(info)?.[1] ?? NaN);
  return {
    commands: parseCommandStats(info),
    reads: stat("total_reads_processed"),
    writes: stat("total_writes_processed"),
  };
}

/** The harness's own commands (redis-cli INFO, FLUSHALL…), left out of what the proxy sent. */
const HARNESS_COMMANDS = /^(info|flushall|config\|.*|command\|.*|client\|.*)$/;

/** What ran between two snapshots, the harness's own commands left out. */
export function commandDelta(before: CommandStats, after: CommandStats): CommandStats {
  const delta: CommandStats = {};
  for (const [name, now] of Object.entries(after)) {
    if (HARNESS_COMMANDS.test(name)) continue;
    const was = before[name] ?? { calls: 0, usec: 0 };
    if (now.calls > was.calls) {
      delta[name] = { calls: now.calls - was.calls, usec: now.usec - was.usec };
    }
  }
  return delta;
}
