// `bun run bench/profile/wisp-opens.ts [--rounds=3] [--count=2000] [--warm=2000] [--yardsticks]
// [--cpu-prof] ENTRY...`: the server's CPU per Wisp stream open (the Wisp phase's `opens`
// workload: the wisp-js client on Node.js opens COUNT streams, 16 in flight, each proven by a
// 1-byte echo, after WARM opens that are not counted), for socket2web checkouts given by their
// src/main.ts (this tree's when none), rounds alternated so that an A/B sees the same machine.
// `--yardsticks` adds the wisp-js server and the lean Bun Wisp server (lean-wisp.ts) to every
// round. `--cpu-prof` profiles this tree's server in the last round and ranks its functions.
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { treeCpu } from "../lib/cpu-time.ts";
import { installCleanup, spawnTracked, stopAll } from "../lib/procs.ts";
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
const PROF_DIR = `${ROOT}.tmp/cpuprof-opens`;

installCleanup();

interface OpensServer {
  readonly name: string;
  start(profiling: boolean): Promise<{ pid: number; url: string; stop(): Promise<unknown> }>;
}

const socket2webServer = (entry: string): OpensServer => ({
  name: entry,
  async start(profiling) {
    const { proc, port } = await startListening(
      "socket2web-wisp",
      (p) => [
        BUN,
        ...(profiling ? ["--cpu-prof", `--cpu-prof-dir=${PROF_DIR}`] : ["run"]),
        entry,
        ...socket2webArgs(p),
        "--wisp",
        "/wisp/",
        "--wisp-max-streams",
        "1024",
      ],
      { readyText: "listening on", cwd: ROOT },
    );
    return { pid: proc.pid, url: `ws://127.0.0.1:${port}/wisp/`, stop: () => proc.stop() };
  },
});

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
  const target = spawnTracked("target", [
    BUN,
    "run",
    `${ROOT}bench/targets/server.ts`,
    "127.0.0.1",
    "0",
  ]);
  const { port: targetPort } = JSON.parse(
    await target.waitForLine((l) => l.startsWith("{"), 10_000),
  ) as { port: number };
  const servers: OpensServer[] = [
    ...entries.map(socket2webServer),
    ...(yardsticks ? [wispJsServer, leanWispServer] : []),
  ];
  const perOpen = new Map<string, number[]>();
  const opens = (url: string, n: number) =>
    spawnTracked("wisp-client", [
      ...client.command,
      `--url=${url}`,
      `--target=127.0.0.1:${targetPort}`,
      "--workload=opens",
      `--count=${n}`,
      "--concurrency=16",
    ]);
  for (let round = 0; round < rounds; round++) {
    for (const entry of round % 2 === 0 ? servers : [...servers].reverse()) {
      const profiling = profile && round === rounds - 1 && entry.name === SOURCE_ENTRY;
      if (profiling) {
        rmSync(PROF_DIR, { recursive: true, force: true });
        mkdirSync(PROF_DIR, { recursive: true });
      }
      const server = await entry.start(profiling);
      try {
        if (warm > 0) {
          const warming = opens(server.url, warm);
          await warming.waitForLine((l) => l.startsWith("{"), 120_000);
          await warming.stop();
        }
        const { user, system } = treeCpu(server.pid);
        const run = opens(server.url, count);
        const line = await run.waitForLine((l) => l.startsWith("{"), 120_000);
        await run.stop();
        const after = treeCpu(server.pid);
        const micros = ((after.user + after.system - user - system) * 1e6) / count;
        const result = JSON.parse(line) as { perSecond?: number; error?: string };
        if (result.error) throw new Error(result.error);
        perOpen.set(entry.name, [...(perOpen.get(entry.name) ?? []), micros]);
        const load = (await Bun.file("/proc/loadavg").text()).split(" ")[0];
        console.log(
          `${entry.name}: ${micros.toFixed(0)} µs of server CPU per open, ${result.perSecond?.toFixed(0)} opens/s (load ${load})`,
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
