// The state phase's side measurements: a bare Bun upgrade after each kind of wait
// (servers/upgrade-await.ts), and the `--state` proxy's sockets under `strace -f` (lib/wire.ts).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Tracked } from "../lib/procs.ts";
import { spawnTracked } from "../lib/procs.ts";
import type { BenchRedis } from "../lib/redis.ts";
import { countWire, type WireCount } from "../lib/wire.ts";
import { startListening } from "../rows/listening.ts";
import { BUN, ROOT } from "../rows/row.ts";
import { socket2webArgs } from "../rows/socket2web.ts";
import type { UpgradeWait } from "../servers/upgrade-await.ts";
import type { UpgradesResult } from "../workloads/upgrades.ts";
import { resultLines, spawnClient } from "./client.ts";
import { cpuSeconds, type StateConfig, type StateRow } from "./state.ts";

export interface UpgradeAwaitRun extends UpgradesResult {
  /** The server's CPU per upgrade (warm-up included), µs. */
  serverCpuUs: number;
}

/** servers/upgrade-await.ts with one kind of wait, timed by a client process. */
export async function upgradeAfter(
  wait: UpgradeWait,
  redis: BenchRedis,
  config: StateConfig,
): Promise<UpgradeAwaitRun> {
  const server = spawnTracked(`upgrade-await ${wait}`, [
    BUN,
    "run",
    `${ROOT}bench/servers/upgrade-await.ts`,
    wait,
    redis.url,
  ]);
  let client: Tracked | undefined;
  try {
    const ready = await server.waitForLine((l) => l.startsWith("{"), 10_000);
    const { port } = JSON.parse(ready) as { port: number };
    const upgrades = {
      url: `ws://127.0.0.1:${port}/`,
      warmup: config.warmup,
      sequential: config.sequential,
      concurrent: config.sessions,
      concurrency: config.concurrency,
    };
    const cpuBefore = cpuSeconds(server.pid);
    client = spawnClient({ kind: "upgrades", upgrades });
    await client.waitForLine((l) => l.startsWith("RESULT "), 60_000);
    const cpu = cpuSeconds(server.pid) - cpuBefore;
    const result = resultLines(client.output())[0] as unknown as UpgradesResult;
    const total = upgrades.warmup + upgrades.sequential + upgrades.concurrent;
    return { ...result, serverCpuUs: (cpu * 1e6) / total };
  } finally {
    await client?.stop(1000);
    await server.stop(1000);
  }
}

/**
 * The row's proxy under `strace -f`, upgraded one at a time: what it wrote to Redis and read from
 * it between each request and its 101.
 */
export async function wireCheck(
  row: StateRow,
  redis: BenchRedis,
  config: StateConfig,
): Promise<WireCount> {
  const dir = mkdtempSync(join(tmpdir(), "socket2web-bench-wire-"));
  const file = join(dir, "strace.txt");
  const limits = [
    "--max-connections-per-ip",
    String(config.perIp),
    "--rate-limit",
    String(config.rate),
  ];
  const syscalls = "trace=sendto,sendmsg,write,writev,recvfrom,recvmsg,read";
  const { proc, port } = await startListening(
    `${row.id} (strace)`,
    (p) => [
      ...["strace", "-f", "-qq", "-s", "48", "-e", syscalls, "-o", file],
      ...row.command,
      ...socket2webArgs(p),
      ...limits,
      ...["--state", redis.url],
    ],
    { readyText: "listening on", cwd: ROOT },
  );
  let client: Tracked | undefined;
  try {
    const upgrades = {
      url: `ws://127.0.0.1:${port}/`,
      warmup: 100,
      sequential: config.sequential,
      concurrent: 0,
      concurrency: 1,
    };
    client = spawnClient({ kind: "upgrades", upgrades });
    await client.waitForLine((l) => l.startsWith("RESULT "), 60_000);
    await client.stop(1000);
    await proc.stop();
    return countWire(readFileSync(file, "utf8"));
  } finally {
    await client?.stop(1000);
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
