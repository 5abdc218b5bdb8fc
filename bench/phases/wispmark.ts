// The WispMark method (the Wisp implementers' own comparison of servers), with a harness of our
// own: each server is driven by wisp-js client processes (bench/wisp/wispmark-client.ts, on
// Node.js as WispMark runs it) at 1 stream, 10 streams and 5 processes × 10 streams, every stream
// kept full with 50 KiB sends to a TCP echo target (bench/targets/counting-echo.ts); the figure is
// the bytes that reach the echo target's port in a fixed window. Rows alternate within each
// repeat; medians of the repeats. Beside throughput: each server's own CPU per MiB moved (its
// process tree's user + system) and its peak RSS during the window.
import { existsSync, readFileSync } from "node:fs";
import { treeCpu } from "../lib/cpu-time.ts";
import { treeMemory } from "../lib/memory.ts";
import { spawnTracked, type Tracked } from "../lib/procs.ts";
import { startListening } from "../rows/listening.ts";
import { BUN, ROOT } from "../rows/row.ts";
import { BUN_RUNTIME_DEFAULTS } from "../rows/runtime-default-env.ts";
import { BINARY, SOURCE_ENTRY, socket2webArgs } from "../rows/socket2web.ts";
import { startWispJsServer, wispJs } from "../rows/wisp-js.ts";
import { type Budget, rotate } from "./clock.ts";
import { wispClientCommand } from "./wisp.ts";

export const WISPMARK_SHAPES = [
  { id: "1", processes: 1, streams: 1 },
  { id: "10", processes: 1, streams: 10 },
  { id: "5x10", processes: 5, streams: 10 },
] as const;
export type WispmarkShape = (typeof WISPMARK_SHAPES)[number]["id"];

/** One measured window of one server at one shape. */
export interface WispmarkRun {
  /** Bytes per second (MiB/s) that reached the echo target. */
  mibPerSecond: number;
  /** The server's CPU seconds per MiB that reached the target. */
  cpuPerMib: number;
  /** Highest RSS of the server's process tree sampled in the window, MiB. */
  peakRssMib: number;
  /** The client processes' CPU seconds per second, summed (2.00 = both cores). */
  clientBusy: number;
}

export interface WispmarkResults {
  servers: { id: string; label: string; unavailable: string | null }[];
  seconds: number;
  repeats: number;
  payloadBytes: number;
  clientRuntime: string;
  load: { before: number; after: number };
  /** Server id → shape → one entry per repeat. */
  runs: Record<string, Partial<Record<WispmarkShape, WispmarkRun[]>>>;
  errors: string[];
}

interface Server {
  id: string;
  label: string;
  unavailable(): string | null;
  start(): Promise<{ url: string; pid: number; stop(): Promise<void> }>;
}

function socket2web(
  id: string,
  label: string,
  command: string[],
  exists: string,
  env: Readonly<Record<string, string>> = {},
): Server {
  return {
    id,
    label,
    unavailable: () => (existsSync(exists) ? null : `${exists} is missing`),
    async start() {
      const { proc, port } = await startListening(
        id,
        (p) => [...command, ...socket2webArgs(p), "--wisp", "/wisp/"],
        { readyText: "listening on", cwd: ROOT, env },
      );
      return { url: `ws://127.0.0.1:${port}/wisp/`, pid: proc.pid, stop: () => proc.stop() };
    },
  };
}

const BASE_ENTRY = process.env.BENCH_WISPMARK_BASE_ENTRY;

const SERVERS: Server[] = [
  socket2web("socket2web", "socket2web --wisp (source)", [BUN, "run", SOURCE_ENTRY], SOURCE_ENTRY),
  socket2web("socket2web-bin", "socket2web --wisp (binary)", [BINARY], BINARY),
  socket2web(
    "socket2web-bun-defaults",
    "socket2web --wisp (binary, Bun's runtime defaults: MIMALLOC_PURGE_DELAY=100, FTL on, no restart)",
    [BINARY],
    BINARY,
    BUN_RUNTIME_DEFAULTS,
  ),
  // An A/B beside the source row: another checkout's src/main.ts (for example the commit before).
  ...(BASE_ENTRY
    ? [
        socket2web(
          "socket2web-base",
          "socket2web --wisp (base checkout)",
          [BUN, "run", BASE_ENTRY],
          BASE_ENTRY,
        ),
      ]
    : []),
  {
    id: "wisp-js",
    label: "wisp-js server (Node.js, its CLI)",
    unavailable: () => wispJs.unavailable(),
    start: startWispJsServer,
  },
];

/** The other servers WispMark ranks, and why they have no row here. */
const NOT_HERE = [
  "wisp-server-python, epoxy-server (Rust), WispServerCpp: neither npm nor Debian ships them",
  "wisp-server-node: on npm, but the bench installs nothing into the shared node_modules",
];
const MIB = 1024 * 1024;
const PAYLOAD = 50 * 1024;
/** Time the streams get to reach their pace before the window opens. */
const WARM_UP_MS = 1000;
const SAMPLE_MS = 250;

/** The echo target's received-byte count, asked over its stdin. */
async function targetBytes(target: Tracked, seq: number): Promise<number> {
  target.send(`count ${seq}`);
  const line = await target.waitForLine((l) => l.startsWith(`{"seq":${seq},`), 5000);
  return (JSON.parse(line) as { bytes: number }).bytes;
}

const cpuOf = (pid: number): number => {
  const { user, system } = treeCpu(pid);
  return user + system;
};

async function measure(
  server: Server,
  shape: (typeof WISPMARK_SHAPES)[number],
  target: { proc: Tracked; port: number; seq: number },
  client: string[],
  seconds: number,
): Promise<WispmarkRun> {
  const running = await server.start();
  const clients: Tracked[] = [];
  try {
    for (let i = 0; i < shape.processes; i++) {
      clients.push(
        spawnTracked("wispmark-client", [
          ...client,
          `--url=${running.url}`,
          `--target=127.0.0.1:${target.port}`,
          `--streams=${shape.streams}`,
          `--payload=${PAYLOAD}`,
        ]),
      );
    }
    for (const c of clients) {
      const line = await c.waitForLine((l) => l.startsWith("{"), 15_000);
      if (!line.includes('"ready"')) throw new Error(line);
    }
    await Bun.sleep(WARM_UP_MS);
    const bytesBefore = await targetBytes(target.proc, target.seq++);
    const cpuBefore = cpuOf(running.pid);
    const clientCpuBefore = clients.reduce((sum, c) => sum + cpuOf(c.pid), 0);
    const started = performance.now();
    let peakRss = 0;
    // Sampled, not slept through: the peak is the figure asked for.
    while (performance.now() - started < seconds * 1000) {
      peakRss = Math.max(peakRss, treeMemory(running.pid).rss);
      await Bun.sleep(SAMPLE_MS);
    }
    const bytes = (await targetBytes(target.proc, target.seq++)) - bytesBefore;
    const elapsed = (performance.now() - started) / 1000;
    const cpu = cpuOf(running.pid) - cpuBefore;
    const clientCpu = clients.reduce((sum, c) => sum + cpuOf(c.pid), 0) - clientCpuBefore;
    for (const c of clients) {
      if (c.proc.exitCode !== null) throw new Error(`a client ended: ${c.output().slice(-300)}`);
    }
    return {
      mibPerSecond: bytes / MIB / elapsed,
      cpuPerMib: bytes > 0 ? cpu / (bytes / MIB) : Number.NaN,
      peakRssMib: peakRss / MIB,
      clientBusy: clientCpu / elapsed,
    };
  } finally {
    await Promise.all(clients.map((c) => c.stop()));
    await running.stop();
  }
}

export async function wispmarkPhase(
  options: {
    quick: boolean;
    seconds?: number;
    repeats?: number;
    /** Only these servers, only these shapes (ids). */
    only?: string[];
    shapes?: string[];
  },
  budget: Budget,
  log: (line: string) => void,
): Promise<WispmarkResults> {
  const seconds = options.seconds ?? (options.quick ? 3 : 6);
  // Five: on a shared 2-core machine one row's CPU per MiB moves by a fifth between repeats
  // minutes apart, and the median of three still follows a slow spell.
  const repeats = options.repeats ?? (options.quick ? 1 : 5);
  const servers = SERVERS.filter((s) => !options.only || options.only.includes(s.id));
  const client = await wispClientCommand("wispmark-client");
  const results: WispmarkResults = {
    servers: servers.map((s) => ({ id: s.id, label: s.label, unavailable: s.unavailable() })),
    seconds,
    repeats,
    payloadBytes: PAYLOAD,
    clientRuntime: client.runtime,
    load: { before: loadAverage(), after: 0 },
    runs: {},
    errors: [],
  };
  const runnable = servers.filter((s) => s.unavailable() === null);
  for (const s of servers) {
    const why = s.unavailable();
    if (why) log(`wispmark: ${s.id} not run: ${why}`);
  }
  const echo = spawnTracked("counting-echo", [BUN, "run", `${ROOT}bench/targets/counting-echo.ts`]);
  try {
    const ready = await echo.waitForLine((l) => l.startsWith('{"port"'), 10_000);
    const target = { proc: echo, port: (JSON.parse(ready) as { port: number }).port, seq: 1 };
    for (let repeat = 0; repeat < repeats; repeat++) {
      for (const shape of WISPMARK_SHAPES.filter(
        (s) => options.shapes === undefined || options.shapes.includes(s.id),
      )) {
        for (const server of rotate(runnable, repeat)) {
          if (!budget.allows((seconds + 10) * 1000)) {
            results.errors.push("time budget spent: later WispMark runs skipped");
            return results;
          }
          try {
            const run = await measure(server, shape, target, client.command, seconds);
            const slot = results.runs[server.id] ?? {};
            results.runs[server.id] = slot;
            slot[shape.id] = [...(slot[shape.id] ?? []), run];
            log(
              `wispmark ${server.id} ${shape.id}: ${run.mibPerSecond.toFixed(0)} MiB/s, ` +
                `${(run.cpuPerMib * 1000).toFixed(2)} ms CPU/MiB, peak RSS ${run.peakRssMib.toFixed(0)} MiB, ` +
                `clients ${run.clientBusy.toFixed(2)} cores`,
            );
          } catch (error) {
            results.errors.push(
              `${server.id} ${shape.id}: ${error instanceof Error ? error.message : error}`,
            );
          }
        }
      }
    }
    return results;
  } finally {
    results.load.after = loadAverage();
    await echo.stop();
  }
}

function loadAverage(): number {
  try {
    return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  } catch {
    return Number.NaN;
  }
}

const median = (values: number[]): number | undefined => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

const fixed = (value: number | undefined, digits: number): string =>
  value === undefined || Number.isNaN(value) ? "-" : value.toFixed(digits);

/** The Markdown report: medians per server and shape, and each figure's ratio to wisp-js's. */
export function wispmarkReport(results: WispmarkResults): string[] {
  const pick = (id: string, shape: WispmarkShape, field: keyof WispmarkRun) =>
    median((results.runs[id]?.[shape] ?? []).map((r) => r[field]));
  const ratio = (ours: number | undefined, theirs: number | undefined) =>
    ours !== undefined && theirs ? `${(ours / theirs).toFixed(2)}×` : "-";
  const measured = results.servers.filter((s) => results.runs[s.id]);
  const lines = [
    "## WispMark-style: wisp-js client processes, 50 KiB sends to a TCP echo target",
    "",
    `Each server driven by wisp-js client processes (${results.clientRuntime}) at 1 stream, 10 streams`,
    `and 5 processes × 10 streams, every stream kept full with ${results.payloadBytes / 1024} KiB sends;`,
    `the figure is the bytes that reached the echo target's port in ${results.seconds} s`,
    `(after 1 s of warm-up). Medians of ${results.repeats} repeats, rows alternated. Server CPU is`,
    "its own process tree's user + system; peak RSS is sampled every 250 ms in the window. Load",
    `average (1 min) ${results.load.before} before and ${results.load.after} after: on a 2-core machine`,
    "shared with other work, compare only figures taken together.",
    "",
    "| server | streams | MiB/s | ratio to wisp-js | ms CPU per MiB | ratio to wisp-js | peak RSS MiB | clients' cores |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const server of measured) {
    for (const { id: shape } of WISPMARK_SHAPES) {
      if (!results.runs[server.id]?.[shape]) continue;
      const rate = pick(server.id, shape, "mibPerSecond");
      const cpu = pick(server.id, shape, "cpuPerMib");
      lines.push(
        `| ${server.label} | ${shape} | ${fixed(rate, 0)} | ${ratio(rate, pick("wisp-js", shape, "mibPerSecond"))} | ` +
          `${fixed(cpu === undefined ? undefined : cpu * 1000, 2)} | ${ratio(cpu, pick("wisp-js", shape, "cpuPerMib"))} | ` +
          `${fixed(pick(server.id, shape, "peakRssMib"), 0)} | ${fixed(pick(server.id, shape, "clientBusy"), 2)} |`,
      );
    }
  }
  const skipped = results.servers.filter((s) => s.unavailable);
  lines.push(
    "",
    "Not run:",
    "",
    ...skipped.map((s) => `- ${s.label}: ${s.unavailable}`),
    ...NOT_HERE.map((line) => `- ${line}`),
  );
  if (results.errors.length > 0) {
    lines.push("", "Errors:", "", ...results.errors.map((e) => `- ${e}`));
  }
  return lines;
}
