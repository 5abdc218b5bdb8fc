// `bun run bench/profile/wisp-opens.ts [--rounds=3] [--count=2000] [--warm=2000] [--yardsticks]
// [--pin] [--alloc] [--cpu-prof] ENTRY...`: the server's CPU per Wisp stream open (the Wisp
// phase's `opens` workload: the wisp-js client on Node.js opens COUNT streams, 16 in flight, each
// proven by a 1-byte echo, after WARM opens that are not counted), for socket2web checkouts given
// by their src/main.ts (this tree's when none), rounds alternated so that an A/B sees the same
// machine; each line splits the CPU into the main thread's and the other threads' (the JIT's
// compiler threads, the garbage collector's helpers, the allocator's).
// `--yardsticks` adds the wisp-js server and the lean Bun Wisp server (lean-wisp.ts) to every
// round. `--pin` puts each server on CPU 0 and the client and target on CPU 1 (far steadier
// figures; with a large --warm, the warm cost). `--alloc` adds socket2web's JavaScript heap
// allocation per open (its garbage collector's log). `--objects` counts the JavaScript cells
// socket2web makes per open, by type (its collector off, the heap counted before and after).
// `--cpu-prof` profiles this tree's server in the last round and ranks its functions.
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { mainThreadCpu, treeCpu } from "../lib/cpu-time.ts";
import { descendants, installCleanup, spawnTracked, stopAll } from "../lib/procs.ts";
import { wispClientCommand } from "../phases/wisp.ts";
import { startListening } from "../rows/listening.ts";
import { BUN, ROOT } from "../rows/row.ts";
import { SOURCE_ENTRY, socket2webArgs } from "../rows/socket2web.ts";
import { startWispJsServer } from "../rows/wisp-js.ts";
import { rankProfile } from "./cpuprofile.ts";

const flags = process.argv.slice(2).filter((a) => a.startsWith("--"));
const flag = (name: string) =>
  flags.find((f) => f.startsWith(`--${name}=`))?.slice(name.length + 3);
const entries = process.argv.slice(2).filter((a) => !a.startsWith("--"));
if (entries.length === 0) entries.push(SOURCE_ENTRY);
const rounds = Number(flag("rounds") ?? 3);
const count = Number(flag("count") ?? 2000);
const warm = Number(flag("warm") ?? 2000);
const yardsticks = flags.includes("--yardsticks");
const profile = flags.includes("--cpu-prof");
const pin = flags.includes("--pin");
const alloc = flags.includes("--alloc");
const objects = flags.includes("--objects");
const COUNTS_DIR = `${ROOT}.tmp/heap-counts`;
const COUNTS_FILE = `${COUNTS_DIR}/opens`;
/** Client and target on the second CPU when pinned. */
const onClientCpu = (command: string[]) => (pin ? ["taskset", "-c", "1", ...command] : command);
const PROF_DIR = `${ROOT}.tmp/cpuprof-opens`;

installCleanup();

interface OpensServer {
  readonly name: string;
  start(profiling: boolean): Promise<{
    pid: number;
    url: string;
    stop(): Promise<unknown>;
    /** What it printed so far: socket2web's garbage collector log with --alloc. */
    output?(): string;
    /** With --objects: the heap's cells by type now. */
    cells?(): Promise<Record<string, number>>;
  }>;
}

/** Bytes the JavaScript heap allocated, from JavaScriptCore's GC log (BUN_JSC_logGC=1). */
function allocatedBytes(log: string): number {
  let bytes = 0;
  for (const match of log.matchAll(/bytes allocated this cycle: (\d+)/g)) bytes += Number(match[1]);
  return bytes;
}

/** Every thread of the server and its children on CPU 0. */
function pinServer(pid: number): void {
  for (const each of [pid, ...descendants(pid)])
    Bun.spawnSync(["taskset", "-a", "-p", "-c", "0", String(each)], { stdout: "ignore" });
}

const socket2webServer = (entry: string): OpensServer => ({
  name: entry,
  async start(profiling) {
    if (objects) {
      rmSync(COUNTS_DIR, { recursive: true, force: true });
      mkdirSync(COUNTS_DIR, { recursive: true });
    }
    const { proc, port } = await startListening(
      "socket2web-wisp",
      (p) => [
        BUN,
        ...(profiling ? ["--cpu-prof", `--cpu-prof-dir=${PROF_DIR}`] : ["run"]),
        ...(objects ? ["--preload", `${ROOT}bench/profile/heap-counts-preload.ts`] : []),
        entry,
        ...socket2webArgs(p),
        "--wisp",
        "/wisp/",
        "--wisp-max-streams",
        "1024",
      ],
      { readyText: "listening on", cwd: ROOT, env: serverEnv() },
    );
    let snapshots = 0;
    return {
      pid: proc.pid,
      url: `ws://127.0.0.1:${port}/wisp/`,
      stop: () => proc.stop(),
      output: () => proc.output(),
      cells: () => heapCells(proc.pid, snapshots++),
    };
  },
});

function serverEnv(): Record<string, string> {
  if (objects) return { BUN_JSC_useGC: "0", HEAP_COUNTS_FILE: COUNTS_FILE };
  return alloc ? { BUN_JSC_logGC: "1" } : {};
}

/** The server's heap cells by type, from heap-counts-preload.ts (asked with SIGUSR2). */
async function heapCells(pid: number, n: number): Promise<Record<string, number>> {
  process.kill(pid, "SIGUSR2");
  for (let waited = 0; waited < 10_000; waited += 20) {
    // A fresh handle each time: one made before the file existed keeps answering as it did then.
    const file = Bun.file(`${COUNTS_FILE}.${n}`);
    if (await file.exists()) {
      try {
        return (JSON.parse(await file.text()) as { objectTypeCounts: Record<string, number> })
          .objectTypeCounts;
      } catch {
        // Still being written.
      }
    }
    await Bun.sleep(20);
  }
  throw new Error(`no heap counts from ${pid} within 10 s`);
}

/** Cells made per open, by type, most first. */
function cellsPerOpen(
  before: Record<string, number>,
  after: Record<string, number>,
  opens: number,
): string {
  const made = Object.entries(after)
    .map(([type, count]) => [type, (count - (before[type] ?? 0)) / opens] as const)
    .filter(([, perOpen]) => perOpen >= 0.5)
    .sort((a, b) => b[1] - a[1]);
  const total = made.reduce((sum, [, perOpen]) => sum + perOpen, 0);
  const top = made.slice(0, 8).map(([type, perOpen]) => `${type} ${perOpen.toFixed(0)}`);
  return `${total.toFixed(0)} cells per open (${top.join(", ")})`;
}

const wispJsServer: OpensServer = {
  name: "wisp-js server",
  start: startWispJsServer,
};

const leanWispServer: OpensServer = {
  name: "lean Bun Wisp server (yardstick)",
  async start() {
    const { proc, port } = await startListening(
      "lean-wisp",
      (p) => [BUN, "run", `${ROOT}bench/profile/lean-wisp.ts`, String(p)],
      { readyText: "listening on", cwd: ROOT },
    );
    return { pid: proc.pid, url: `ws://127.0.0.1:${port}/`, stop: () => proc.stop() };
  },
};

async function main(): Promise<void> {
  const client = await wispClientCommand();
  const target = spawnTracked(
    "target",
    onClientCpu([BUN, "run", `${ROOT}bench/targets/server.ts`, "127.0.0.1", "0"]),
  );
  const { port: targetPort } = JSON.parse(
    await target.waitForLine((l) => l.startsWith("{"), 10_000),
  ) as { port: number };
  const servers: OpensServer[] = [
    ...entries.map(socket2webServer),
    ...(yardsticks ? [wispJsServer, leanWispServer] : []),
  ];
  const perOpen = new Map<string, number[]>();
  const opens = (url: string, n: number) =>
    spawnTracked(
      "wisp-client",
      onClientCpu([
        ...client.command,
        `--url=${url}`,
        `--target=127.0.0.1:${targetPort}`,
        "--workload=opens",
        `--count=${n}`,
        "--concurrency=16",
      ]),
    );
  for (let round = 0; round < rounds; round++) {
    for (const entry of round % 2 === 0 ? servers : [...servers].reverse()) {
      const profiling = profile && round === rounds - 1 && entry.name === SOURCE_ENTRY;
      if (profiling) {
        rmSync(PROF_DIR, { recursive: true, force: true });
        mkdirSync(PROF_DIR, { recursive: true });
      }
      const server = await entry.start(profiling);
      if (pin) pinServer(server.pid);
      try {
        if (warm > 0) {
          const warming = opens(server.url, warm);
          await warming.waitForLine((l) => l.startsWith("{"), 120_000);
          await warming.stop();
        }
        const cellsBefore = objects ? await server.cells?.() : undefined;
        const { user, system } = treeCpu(server.pid);
        const main = mainThreadCpu(server.pid);
        const logged = server.output?.().length ?? 0;
        const run = opens(server.url, count);
        const line = await run.waitForLine((l) => l.startsWith("{"), 120_000);
        await run.stop();
        const after = treeCpu(server.pid);
        const cellsAfter = cellsBefore ? await server.cells?.() : undefined;
        const micros = ((after.user + after.system - user - system) * 1e6) / count;
        const mainMicros = ((mainThreadCpu(server.pid) - main) * 1e6) / count;
        const allocation = server.output
          ? allocatedBytes(server.output().slice(logged)) / count
          : undefined;
        const result = JSON.parse(line) as { perSecond?: number; error?: string };
        if (result.error) throw new Error(result.error);
        perOpen.set(entry.name, [...(perOpen.get(entry.name) ?? []), micros]);
        const load = (await Bun.file("/proc/loadavg").text()).split(" ")[0];
        const allocated =
          alloc && allocation !== undefined ? `, ${allocation.toFixed(0)} B allocated` : "";
        const cells =
          cellsBefore && cellsAfter ? `, ${cellsPerOpen(cellsBefore, cellsAfter, count)}` : "";
        console.log(
          `${entry.name}: ${micros.toFixed(0)} µs of server CPU per open (main thread ${mainMicros.toFixed(0)}, other threads ${(micros - mainMicros).toFixed(0)})${allocated}${cells}, ${result.perSecond?.toFixed(0)} opens/s (load ${load})`,
        );
      } finally {
        await server.stop();
      }
      if (profiling) {
        const file = readdirSync(PROF_DIR).find((f) => f.endsWith(".cpuprofile"));
        if (file) {
          const { ranked, totalMs, idleMs } = rankProfile(`${PROF_DIR}/${file}`, ROOT);
          console.log(`profile: ${totalMs.toFixed(0)} ms sampled, ${idleMs.toFixed(0)} ms idle`);
          for (const r of [...ranked].sort((a, b) => b.selfMs - a.selfMs).slice(0, 30))
            console.log(
              `self ${r.selfMs.toFixed(0)} ms  total ${r.totalMs.toFixed(0)} ms  ${r.name}`,
            );
          for (const r of [...ranked].sort((a, b) => b.totalMs - a.totalMs).slice(0, 40))
            console.log(
              `total ${r.totalMs.toFixed(0)} ms  self ${r.selfMs.toFixed(0)} ms  ${r.name}`,
            );
        }
      }
    }
  }
  for (const [entry, values] of perOpen) {
    const sorted = [...values].sort((a, b) => a - b);
    console.log(
      `median ${entry}: ${sorted[Math.floor(sorted.length / 2)]?.toFixed(0)} µs per open`,
    );
  }
  await target.stop();
}

try {
  await main();
} finally {
  await stopAll();
}
