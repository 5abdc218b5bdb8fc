// `bun run bench/profile/run.ts`: where socket2web spends its time.
//   1. CPU seconds per MiB relayed (echo, upload, download) and per session set up, for
//      socket2web and the rows it is compared with, from /proc/<pid>/stat.
//   2. A `bun --cpu-prof` profile of socket2web (source) under the same load, ranked by
//      self and inclusive time.
//   3. A `perf record -g` profile of the same process (native frames: kernel, uSockets,
//      JSC), when perf is available.
// Writes docs/benchmarks/profile/PROFILE.md (+ the raw perf report).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import type { Endpoint } from "../client/endpoint.ts";
import type { ClientJob } from "../client/main.ts";
import { ensureBinary } from "../lib/build.ts";
import { treeCpu } from "../lib/cpu-time.ts";
import { installCleanup, spawnTracked, stopAll, type Tracked } from "../lib/procs.ts";
import { median } from "../lib/stats.ts";
import { runClient } from "../phases/client.ts";
import { rotate as rotateList } from "../phases/clock.ts";
import { describeSocket2web } from "../report/machine.ts";
import { startListening } from "../rows/listening.ts";
import { BUN, ROOT } from "../rows/row.ts";
import { BINARY, SOURCE_ENTRY, socket2webArgs } from "../rows/socket2web.ts";
import { rankProfile } from "./cpuprofile.ts";

const MiB = 1024 * 1024;
const TOTAL = 256 * MiB;
const SESSIONS = 2000;
const OUT = `${ROOT}docs/benchmarks/profile`;
const PROF_DIR = `${ROOT}.tmp/cpuprof`;

interface Subject {
  id: string;
  command: (port: number) => string[];
  endpoint: (port: number, targetPort: number) => Endpoint;
}

const s2w = (url: string, targetPort: number): Endpoint => ({
  dialect: "s2w",
  url,
  targetHost: "127.0.0.1",
  targetPort,
});

const SUBJECTS: Subject[] = [
  {
    id: "socket2web (source, --cpu-prof)",
    command: (p) => [
      BUN,
      "--cpu-prof",
      `--cpu-prof-dir=${PROF_DIR}`,
      "--cpu-prof-interval=250",
      SOURCE_ENTRY,
      ...socket2webArgs(p),
    ],
    endpoint: (p, t) => s2w(`ws://127.0.0.1:${p}/`, t),
  },
  {
    id: "socket2web (binary)",
    command: (p) => [BINARY, ...socket2webArgs(p)],
    endpoint: (p, t) => s2w(`ws://127.0.0.1:${p}/`, t),
  },
  {
    id: "lean relay (bench/profile/lean-relay.ts)",
    command: (p) => [BUN, "run", `${ROOT}bench/profile/lean-relay.ts`, String(p)],
    endpoint: (p, t) => s2w(`ws://127.0.0.1:${p}/`, t),
  },
  {
    id: "lean relay, LEAN_BATCH=1",
    command: (p) => [
      "env",
      "LEAN_BATCH=1",
      BUN,
      "run",
      `${ROOT}bench/profile/lean-relay.ts`,
      String(p),
    ],
    endpoint: (p, t) => s2w(`ws://127.0.0.1:${p}/`, t),
  },
  {
    id: "ws-ceiling",
    command: (p) => [BUN, "run", `${ROOT}bench/servers/ws-ceiling.ts`, String(p)],
    endpoint: (p, t) => s2w(`ws://127.0.0.1:${p}/`, t),
  },
  {
    id: "socat",
    command: (p) => [
      "socat",
      "-b",
      "65536",
      `TCP-LISTEN:${p},bind=127.0.0.1,fork,reuseaddr,backlog=4096,nodelay`,
      "TCP:127.0.0.1:TARGET,nodelay",
    ],
    endpoint: (p) => ({ dialect: "tcp", host: "127.0.0.1", port: p }),
  },
];

interface CpuRow {
  subject: string;
  work: string;
  /** MiB/s, p50 µs or sessions/s, by work. */
  rate: number;
  rateUnit: string;
  userMs: number;
  systemMs: number;
  /** CPU ms per MiB, µs per round trip or µs per session, by work. */
  perUnit: number;
  perUnitLabel: string;
}

const ROUNDS = 3;

async function measure(
  proc: Tracked,
  job: ClientJob,
  label: string,
): Promise<{ lines: Record<string, unknown>[]; user: number; system: number }> {
  const before = treeCpu(proc.pid);
  let lines: Record<string, unknown>[] = [];
  if (job.kind === "sessions") {
    const client = spawnTracked("client", [
      BUN,
      "run",
      `${ROOT}bench/client/main.ts`,
      JSON.stringify(job),
    ]);
    const line = await client.waitForLine((l) => l.startsWith("RESULT "), 60_000);
    lines = [JSON.parse(line.slice(7)) as Record<string, unknown>];
    const after = treeCpu(proc.pid);
    client.send("close");
    await client.waitForLine((l) => l.startsWith("CLOSED"), 15_000).catch(() => "");
    await client.stop();
    return { lines, user: after.user - before.user, system: after.system - before.system };
  }
  lines = await runClient(job, 120_000);
  const after = treeCpu(proc.pid);
  void label;
  return { lines, user: after.user - before.user, system: after.system - before.system };
}

async function perfStart(pid: number, file: string): Promise<Tracked | null> {
  if (!Bun.which("perf")) return null;
  const perf = spawnTracked("perf", [
    "perf",
    "record",
    "-F",
    "999",
    "-g",
    "-p",
    String(pid),
    "-o",
    file,
  ]);
  await Bun.sleep(300);
  return perf;
}

async function perfStop(perf: Tracked | null, file: string): Promise<string> {
  if (!perf) return "perf not available";
  process.kill(perf.pid, "SIGINT");
  await Promise.race([perf.proc.exited, Bun.sleep(10_000)]);
  await perf.stop();
  const report = (sort: string, limit: string) =>
    Bun.spawnSync(
      [
        "perf",
        "report",
        "-i",
        file,
        "--stdio",
        "--no-children",
        "-g",
        "none",
        "--sort",
        sort,
        "--percent-limit",
        limit,
      ],
      { stdout: "pipe", stderr: "pipe" },
    ).stdout.toString();
  return `${report("dso", "0.5")}\n\n${report("dso,symbol", "0.4")}`;
}

async function main(): Promise<void> {
  installCleanup();
  const notes: string[] = [];
  await ensureBinary(notes, console.log);
  mkdirSync(OUT, { recursive: true });
  rmSync(PROF_DIR, { recursive: true, force: true });
  mkdirSync(PROF_DIR, { recursive: true });
  const target = spawnTracked("target", [BUN, "run", `${ROOT}bench/targets/server.ts`]);
  const targetPort = (
    JSON.parse(await target.waitForLine((l) => l.startsWith("{"), 10_000)) as { port: number }
  ).port;
  const cpuRows: CpuRow[] = [];
  let perfText = "";
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const subject of rotateList(SUBJECTS, round)) {
        const { proc, port } = await startListening(subject.id, (p) =>
          subject.command(p).map((a) => a.replace("TARGET", String(targetPort))),
        );
        const endpoint = subject.endpoint(port, targetPort);
        const profiled = subject.id.includes("cpu-prof") && round === 0;
        const perfFile = `${ROOT}.tmp/perf.data`;
        const perf = profiled ? await perfStart(proc.pid, perfFile) : null;
        for (const mode of ["echo", "upload", "download"] as const) {
          const job: ClientJob = {
            kind: "stream",
            endpoint,
            modes: [mode],
            throughput: {
              totalBytes: TOTAL,
              chunkBytes: 64 * 1024,
              windowBytes: 2 * MiB,
              timeoutMs: 60_000,
            },
            latency: null,
            connectTimeoutMs: 10_000,
          };
          const r = await measure(proc, job, mode);
          const rate = Number(r.lines[0]?.mibPerSecond ?? Number.NaN);
          cpuRows.push({
            subject: subject.id,
            work: `${mode} ${TOTAL / MiB} MiB`,
            rate,
            rateUnit: "MiB/s",
            userMs: r.user * 1000,
            systemMs: r.system * 1000,
            perUnit: ((r.user + r.system) * 1000) / (TOTAL / MiB),
            perUnitLabel: "CPU ms/MiB",
          });
        }
        const latencyJob: ClientJob = {
          kind: "stream",
          endpoint,
          modes: [],
          throughput: { totalBytes: 0, chunkBytes: 1, windowBytes: 1, timeoutMs: 1 },
          latency: { roundTrips: 10_000, warmup: 200, messageBytes: 64, timeoutMs: 30_000 },
          connectTimeoutMs: 10_000,
        };
        const lat = await measure(proc, latencyJob, "latency");
        cpuRows.push({
          subject: subject.id,
          work: "10,000 round trips of 64 B",
          rate: Number(lat.lines[0]?.p50 ?? Number.NaN),
          rateUnit: "µs p50",
          userMs: lat.user * 1000,
          systemMs: lat.system * 1000,
          perUnit: ((lat.user + lat.system) * 1e6) / 10_000,
          perUnitLabel: "CPU µs/round trip",
        });
        const sessionsJob: ClientJob = {
          kind: "sessions",
          endpoint,
          sessions: {
            sessions: SESSIONS,
            concurrency: 256,
            echoBytes: 1024,
            perSessionTimeoutMs: 10_000,
            phaseTimeoutMs: 30_000,
          },
        };
        // The first batch warms the session code up (JIT compilation runs on helper threads
        // and would be charged to the first sessions); the second one is measured.
        await measure(proc, sessionsJob, "sessions warm-up");
        const sessions = await measure(proc, sessionsJob, "sessions");
        cpuRows.push({
          subject: subject.id,
          work: `${SESSIONS} sessions (setup + 1 KiB echo), after ${SESSIONS} warm-up ones`,
          rate: Number(sessions.lines[0]?.sessionsPerSecond ?? Number.NaN),
          rateUnit: "sessions/s",
          userMs: sessions.user * 1000,
          systemMs: sessions.system * 1000,
          perUnit: ((sessions.user + sessions.system) * 1e6) / SESSIONS,
          perUnitLabel: "CPU µs/session",
        });
        if (perf) perfText = await perfStop(perf, perfFile);
        // SIGTERM lets Bun write the CPU profile on exit.
        await proc.stop(8000);
        console.log(`round ${round + 1}: profiled ${subject.id}`);
      }
    }
  } finally {
    await stopAll();
  }

  const profiles = readdirSync(PROF_DIR).filter((f) => f.endsWith(".cpuprofile"));
  const lines: string[] = [
    "# socket2web profile",
    "",
    `Generated by \`bun run bench/profile/run.ts\` on ${new Date().toISOString()}, ${describeSocket2web()}:`,
    "the file:line names below are that commit's.",
    "",
  ];
  lines.push("## Proxy CPU time per unit of work (user + system, from /proc)", "");
  lines.push(
    `| proxy | work | rate (median of ${ROUNDS}) | user ms | system ms | CPU per unit |`,
    "|---|---|---|---|---|---|",
  );
  const groups = new Map<string, CpuRow[]>();
  for (const r of cpuRows) {
    const key = `${r.subject}\u0000${r.work}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const mid = (rows: CpuRow[], pick: (r: CpuRow) => number) => median(rows.map(pick));
  for (const rows of groups.values()) {
    const r = rows[0] as CpuRow;
    lines.push(
      `| ${r.subject} | ${r.work} | ${mid(rows, (x) => x.rate).toFixed(0)} ${r.rateUnit} | ${mid(rows, (x) => x.userMs).toFixed(0)} | ${mid(rows, (x) => x.systemMs).toFixed(0)} | ${mid(rows, (x) => x.perUnit).toFixed(2)} ${r.perUnitLabel} |`,
    );
  }
  lines.push("");
  const first = profiles[0];
  if (first) {
    const { totalMs, idleMs, ranked } = rankProfile(`${PROF_DIR}/${first}`, ROOT);
    lines.push(
      `## bun --cpu-prof (socket2web source): ${totalMs.toFixed(0)} ms sampled, ${idleMs.toFixed(0)} ms idle`,
      "",
    );
    lines.push("### Top self time", "", "| self ms | % of busy | function |", "|---|---|---|");
    const busy = totalMs - idleMs;
    for (const r of [...ranked].sort((a, b) => b.selfMs - a.selfMs).slice(0, 30)) {
      lines.push(
        `| ${r.selfMs.toFixed(0)} | ${((100 * r.selfMs) / busy).toFixed(1)} | \`${r.name}\` |`,
      );
    }
    lines.push(
      "",
      "### Top inclusive time (project code)",
      "",
      "| total ms | % of busy | function |",
      "|---|---|---|",
    );
    for (const r of ranked
      .filter((x) => x.name.includes("src/"))
      .sort((a, b) => b.totalMs - a.totalMs)
      .slice(0, 30)) {
      lines.push(
        `| ${r.totalMs.toFixed(0)} | ${((100 * r.totalMs) / busy).toFixed(1)} | \`${r.name}\` |`,
      );
    }
  } else {
    lines.push("No .cpuprofile was written (did the server exit cleanly on SIGTERM?).");
  }
  lines.push(
    "",
    "## perf (socket2web source, whole run)",
    "",
    "See [perf-report.txt](perf-report.txt).",
  );
  writeFileSync(`${OUT}/perf-report.txt`, perfText);
  writeFileSync(`${OUT}/PROFILE.md`, `${lines.join("\n")}\n`);
  console.log(`wrote ${OUT}/PROFILE.md`);
}

await main();
process.exit();
