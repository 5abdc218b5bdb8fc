// `bun run bench/profile/session-cpu.ts [--rounds=N] [--sessions=N] [--warmup=N] [--base=DIR] [--tree=DIR]`: proxy CPU per
// session (handshake + connect + 1 KiB echo + close), from /proc/<pid>/stat, for the lean relay,
// socket2web from this tree and, with --base, socket2web from another checkout (for example a
// `git archive` of the commit before a change). Subjects alternate every round; one fresh process
// per subject, warmed up once. An A/B tool for changes to session set-up: CPU time per session is
// far steadier than sessions/s on a shared machine. --prof: socket2web (this tree) runs under
// `bun --cpu-prof`, and its functions are ranked by inclusive and self time at the end.
// Every round also times 300 sequential sessions from upgrade to `connected` (low load).
// --threads: each subject's CPU per session split by thread (the JS thread, GC helpers, JIT).
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import type { ClientJob } from "../client/main.ts";
import { threadCpu, treeCpu } from "../lib/cpu-time.ts";
import { installCleanup, spawnTracked, stopAll } from "../lib/procs.ts";
import { median } from "../lib/stats.ts";
import { runClient } from "../phases/client.ts";
import { rotate } from "../phases/clock.ts";
import { startListening } from "../rows/listening.ts";
import { BUN, ROOT } from "../rows/row.ts";
import { socket2webArgs } from "../rows/socket2web.ts";
import { rankProfile } from "./cpuprofile.ts";
import { runSessions } from "./sessions-client.ts";

function flag(name: string, fallback: string): string {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg ? arg.slice(name.length + 3) : fallback;
}

const ROUNDS = Number(flag("rounds", "5"));
const SESSIONS = Number(flag("sessions", "2000"));
/** Sessions run (and not measured) on each fresh process first: JIT warm-up. */
const WARMUP = Number(flag("warmup", "500"));
const BASE = flag("base", "");
/** The checkout measured as "socket2web" (default: this one). */
const TREE = flag("tree", ROOT.replace(/\/$/, ""));
const PROF = process.argv.includes("--prof");
const THREADS = process.argv.includes("--threads");
const PROF_DIR = `${ROOT}.tmp/cpuprof-sessions`;
const profArgs = PROF
  ? ["--cpu-prof", `--cpu-prof-dir=${PROF_DIR}`, "--cpu-prof-interval=100"]
  : [];

async function setupLatency(
  url: string,
  targetPort: number,
): Promise<{ p50: number; p99: number }> {
  const job: ClientJob = {
    kind: "stream",
    endpoint: { dialect: "s2w", url, targetHost: "127.0.0.1", targetPort },
    modes: [],
    throughput: { totalBytes: 0, chunkBytes: 1, windowBytes: 1, timeoutMs: 1 },
    latency: null,
    setup: { sessions: 300, warmup: 100, timeoutMs: 10_000 },
    connectTimeoutMs: 10_000,
  };
  const [line] = await runClient(job, 60_000);
  return line as unknown as { p50: number; p99: number };
}

interface Subject {
  id: string;
  command: (port: number) => string[];
}

const subjects: Subject[] = [
  { id: "lean", command: (p) => [BUN, "run", `${ROOT}bench/profile/lean-relay.ts`, String(p)] },
  {
    id: "socket2web",
    command: (p) => [BUN, ...profArgs, `${TREE}/src/main.ts`, ...socket2webArgs(p)],
  },
];
if (BASE)
  subjects.push({
    id: "base",
    command: (p) => [BUN, "run", `${BASE}/src/main.ts`, ...socket2webArgs(p)],
  });

async function sessionsOnce(
  pid: number,
  url: string,
  targetPort: number,
  count: number,
): Promise<{ cpuUs: number; rate: number; failures: number; threads: string }> {
  const before = treeCpu(pid);
  const threadsBefore = threadCpu(pid);
  const result = await runSessions(url, targetPort, count);
  await Bun.sleep(200);
  const after = treeCpu(pid);
  const cpu = after.user + after.system - before.user - before.system;
  const perSession = (seconds: number) => (seconds * 1e6) / Math.max(1, result.established);
  const threads = [...threadCpu(pid)]
    .map(([name, seconds]) => [name, perSession(seconds - (threadsBefore.get(name) ?? 0))] as const)
    .filter(([, us]) => us >= 1)
    .sort((a, b) => b[1] - a[1])
    .map(([name, us]) => `${name} ${us.toFixed(0)}`)
    .join(", ");
  return {
    threads,
    cpuUs: perSession(cpu),
    rate: result.sessionsPerSecond,
    failures: result.failures,
  };
}

installCleanup();
if (PROF) {
  rmSync(PROF_DIR, { recursive: true, force: true });
  mkdirSync(PROF_DIR, { recursive: true });
}
const target = spawnTracked("target", [BUN, "run", `${ROOT}bench/targets/server.ts`]);
const targetPort = (
  JSON.parse(await target.waitForLine((l) => l.startsWith("{"), 10_000)) as { port: number }
).port;
const byId: Record<
  string,
  { cpu: number[]; rate: number[]; failures: number; p50: number[]; p99: number[] }
> = {};
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const subject of rotate(subjects, round)) {
      const { proc, port } = await startListening(subject.id, subject.command, {
        readyText: "listening on",
      });
      const url = `ws://127.0.0.1:${port}/`;
      for (let left = WARMUP; left > 0; left -= 2000)
        await sessionsOnce(proc.pid, url, targetPort, Math.min(left, 2000));
      const r = await sessionsOnce(proc.pid, url, targetPort, SESSIONS);
      const setup = await setupLatency(url, targetPort);
      const slot = byId[subject.id] ?? { cpu: [], rate: [], failures: 0, p50: [], p99: [] };
      slot.p50.push(setup.p50);
      slot.p99.push(setup.p99);
      byId[subject.id] = slot;
      slot.cpu.push(r.cpuUs);
      slot.rate.push(r.rate);
      slot.failures += r.failures;
      console.log(
        `round ${round + 1} ${subject.id.padEnd(11)} ${r.cpuUs.toFixed(0)} µs CPU/session, ${r.rate.toFixed(0)}/s, ${r.failures} failed, set-up p50 ${setup.p50.toFixed(0)} p99 ${setup.p99.toFixed(0)} µs`,
      );
      if (THREADS) console.log(`  µs per session by thread: ${r.threads}`);
      await proc.stop();
    }
  }
} finally {
  await stopAll();
}
for (const [id, s] of Object.entries(byId)) {
  console.log(
    `${id.padEnd(11)} median ${median(s.cpu).toFixed(0)} µs CPU/session (${s.cpu.map((v) => v.toFixed(0)).join(" ")}), ${median(s.rate).toFixed(0)} sessions/s, ${s.failures} failed, set-up p50 ${median(s.p50).toFixed(0)} p99 ${median(s.p99).toFixed(0)} µs`,
  );
}
if (PROF) {
  for (const file of readdirSync(PROF_DIR).filter((f) => f.endsWith(".cpuprofile"))) {
    const { totalMs, idleMs, ranked } = rankProfile(`${PROF_DIR}/${file}`, ROOT);
    const sessions = ROUNDS * (SESSIONS + WARMUP);
    const per = (ms: number) => ((ms * 1000) / sessions).toFixed(1).padStart(6);
    console.log(
      `\n${file}: ${totalMs.toFixed(0)} ms sampled, ${idleMs.toFixed(0)} idle; µs per session:`,
    );
    console.log("inclusive:");
    for (const r of [...ranked].sort((a, b) => b.totalMs - a.totalMs).slice(0, 45))
      console.log(`${per(r.totalMs)} ${per(r.selfMs)}  ${r.name}`);
    console.log("self:");
    for (const r of [...ranked].sort((a, b) => b.selfMs - a.selfMs).slice(0, 30))
      console.log(`${per(r.selfMs)}  ${r.name}`);
  }
}
process.exit(0);
