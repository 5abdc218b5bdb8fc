// The Wisp row: wisp-js's own client against Socket2Web's Wisp endpoint (`--wisp /wisp/`) and
// against the wisp-js server, side by side. Throughput over 1 stream and over 8 streams on one
// connection (download from the target's source mode, upload into its sink), and the stream-open
// rate (streams opened on one connection, 16 in flight, each proven by a 1-byte echo). The client
// runs on Node.js, wisp-js's home runtime as for its server: under Bun the same client spends up to
// 1.5× the CPU per byte (page faults and copies in its WebSocket's send path), and the client's CPU
// is what bounds these rates (docs/benchmarks/ANALYSIS.md).
import { readFileSync } from "node:fs";
import { descendants, spawnTracked } from "../lib/procs.ts";
import { startListening } from "../rows/listening.ts";
import { BUN, ROOT } from "../rows/row.ts";
import { BUN_RUNTIME_DEFAULTS } from "../rows/runtime-default-env.ts";
import { SOURCE_ENTRY, socket2webArgs } from "../rows/socket2web.ts";
import { startWispJsServer } from "../rows/wisp-js.ts";
import { type Budget, rotate } from "./clock.ts";

export const WISP_WORKLOADS = [
  "download-1",
  "download-8",
  "upload-1",
  "upload-8",
  "opens",
] as const;
export type WispWorkload = (typeof WISP_WORKLOADS)[number];

/** Server id → workload → measured values (MB/s for throughput, streams/s for opens). */
export interface WispResults {
  /** Server id → workload → the work done per second of the server's own CPU (same units). */
  perCpuSecond?: Record<string, Partial<Record<WispWorkload, number[]>>>;
  servers: { id: string; label: string }[];
  /** /proc/loadavg's 1-minute figure before and after: how busy the machine was meanwhile. */
  load: { before: number; after: number };
  runs: Record<string, Partial<Record<WispWorkload, number[]>>>;
  /** Server id → workload → the client's CPU seconds per second of the run (1 = a whole core). */
  clientBusy?: Record<string, Partial<Record<WispWorkload, number[]>>>;
  /** The runtime the wisp-js client ran on. */
  clientRuntime?: string;
  errors: string[];
}

interface WispServer {
  id: string;
  label: string;
  start(): Promise<{ url: string; pid: number; stop(): Promise<void> }>;
}

const MB = 1_000_000;

/** Socket2Web from source, in `env` (the row at Bun's runtime defaults). */
function socket2webServer(
  id: string,
  label: string,
  env: Readonly<Record<string, string>>,
): WispServer {
  return {
    id,
    label,
    async start() {
      const { proc, port } = await startListening(
        id,
        (p) => [
          BUN,
          "run",
          SOURCE_ENTRY,
          ...socket2webArgs(p),
          "--wisp",
          "/wisp/",
          "--wisp-max-streams",
          "1024",
        ],
        { readyText: "listening on", cwd: ROOT, env },
      );
      return { url: `ws://127.0.0.1:${port}/wisp/`, pid: proc.pid, stop: () => proc.stop() };
    },
  };
}

const servers: WispServer[] = [
  socket2webServer("socket2web", "socket2web --wisp (source)", {}),
  socket2webServer(
    "socket2web-bun-defaults",
    "socket2web --wisp (source, Bun's runtime defaults: MIMALLOC_PURGE_DELAY=100, FTL on, no restart)",
    BUN_RUNTIME_DEFAULTS,
  ),
  {
    id: "wisp-js",
    label: "wisp-js server (Node.js)",
    start: startWispJsServer,
  },
];

function argsFor(workload: WispWorkload, quick: boolean): string[] {
  const total = (quick ? 64 : 256) * MB;
  switch (workload) {
    case "download-1":
      return ["--workload=download", "--streams=1", `--bytes=${total}`];
    case "download-8":
      return ["--workload=download", "--streams=8", `--bytes=${Math.floor(total / 8)}`];
    case "upload-1":
      return ["--workload=upload", "--streams=1", `--bytes=${total / 2}`];
    case "upload-8":
      return ["--workload=upload", "--streams=8", `--bytes=${Math.floor(total / 16)}`];
    case "opens":
      return ["--workload=opens", `--count=${quick ? 1000 : 4000}`, "--concurrency=16"];
  }
}

/** CPU seconds (user + system) the process tree under `root` has used so far. */
function cpuSeconds(root: number): number {
  let ticks = 0;
  for (const pid of [root, ...descendants(root)]) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process ended meanwhile.
    }
  }
  return ticks / CLOCK_TICKS;
}

/** Linux's USER_HZ. */
const CLOCK_TICKS = 100;

/**
 * The command that starts a wisp-js client: Node.js on a bundle of bench/wisp/NAME.ts (Node
 * does not run TypeScript), `ws` left to Node's resolution as wisp-js expects; Bun when Node is
 * missing or the bundle fails.
 */
export async function wispClientCommand(
  name = "client",
): Promise<{ command: string[]; runtime: string }> {
  const node = Bun.which("node");
  if (node) {
    const built = await Bun.build({
      entrypoints: [`${ROOT}bench/wisp/${name}.ts`],
      target: "node",
      format: "esm",
      external: ["ws"],
      naming: `${name}.mjs`,
      outdir: `${ROOT}.tmp/wisp-client`,
    });
    if (built.success) {
      const version = Bun.spawnSync([node, "--version"]).stdout.toString().trim();
      const bundle = `${ROOT}.tmp/wisp-client/${name}.mjs`;
      return { command: [node, bundle], runtime: `Node.js ${version}` };
    }
  }
  return { command: [BUN, "run", `${ROOT}bench/wisp/${name}.ts`], runtime: `Bun ${Bun.version}` };
}

async function runClient(
  command: string[],
  url: string,
  target: string,
  args: string[],
): Promise<{ perSecond: number; seconds: number; cpuSeconds: number | undefined }> {
  const client = spawnTracked("wisp-client", [
    ...command,
    `--url=${url}`,
    `--target=${target}`,
    ...args,
  ]);
  try {
    const line = await client.waitForLine((l) => l.startsWith("{"), 150_000);
    const result = JSON.parse(line) as {
      mbPerSecond?: number;
      perSecond?: number;
      seconds?: number;
      cpuSeconds?: number;
      error?: string;
    };
    if (result.error) throw new Error(result.error);
    const value = result.mbPerSecond ?? result.perSecond;
    if (value === undefined || result.seconds === undefined)
      throw new Error(`no figure in ${line}`);
    return { perSecond: value, seconds: result.seconds, cpuSeconds: result.cpuSeconds };
  } finally {
    await client.stop();
  }
}

export async function wispPhase(
  target: { host: string; port: number },
  quick: boolean,
  budget: Budget,
  log: (line: string) => void,
): Promise<WispResults> {
  const repeats = quick ? 1 : 3;
  const results: WispResults = {
    servers: servers.map(({ id, label }) => ({ id, label })),
    load: { before: loadAverage(), after: 0 },
    runs: {},
    perCpuSecond: {},
    clientBusy: {},
    errors: [],
  };
  const where = `${target.host}:${target.port}`;
  const client = await wispClientCommand();
  results.clientRuntime = client.runtime;
  log(`wisp: the wisp-js client runs on ${client.runtime}`);
  for (let repeat = 0; repeat < repeats; repeat++) {
    for (const server of rotate(servers, repeat)) {
      if (!budget.allows(60_000)) {
        results.errors.push("time budget spent: later Wisp runs skipped");
        results.load.after = loadAverage();
        return results;
      }
      let running: Awaited<ReturnType<WispServer["start"]>>;
      try {
        running = await server.start();
      } catch (error) {
        results.errors.push(`${server.id}: ${error instanceof Error ? error.message : error}`);
        continue;
      }
      try {
        for (const workload of WISP_WORKLOADS) {
          try {
            const args = argsFor(workload, quick);
            const cpuBefore = cpuSeconds(running.pid);
            const run = await runClient(client.command, running.url, where, args);
            const { perSecond: value, seconds } = run;
            const cpu = cpuSeconds(running.pid) - cpuBefore;
            record(results.runs, server.id, workload, value);
            if (cpu > 0) {
              record(results.perCpuSecond ?? {}, server.id, workload, (value * seconds) / cpu);
            }
            if (run.cpuSeconds !== undefined && seconds > 0) {
              record(results.clientBusy ?? {}, server.id, workload, run.cpuSeconds / seconds);
            }
            log(
              `wisp ${server.id} ${workload}: ${value.toFixed(0)} (server CPU ${cpu.toFixed(2)} s, ` +
                `client CPU ${run.cpuSeconds?.toFixed(2) ?? "?"} s in ${seconds.toFixed(2)} s)`,
            );
          } catch (error) {
            results.errors.push(
              `${server.id} ${workload}: ${error instanceof Error ? error.message : error}`,
            );
          }
        }
      } finally {
        await running.stop();
      }
    }
  }
  results.load.after = loadAverage();
  return results;
}

function record(
  into: Record<string, Partial<Record<WispWorkload, number[]>>>,
  server: string,
  workload: WispWorkload,
  value: number,
): void {
  const slot = into[server] ?? {};
  into[server] = slot;
  slot[workload] = [...(slot[workload] ?? []), value];
}

function loadAverage(): number {
  try {
    return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  } catch {
    return Number.NaN;
  }
}

/** One Markdown row per workload from Socket2Web's and wisp-js's medians in `table`. */
function tableRows(
  table: Record<string, Partial<Record<WispWorkload, number[]>>>,
  row: (workload: WispWorkload, ours: number | undefined, theirs: number | undefined) => string,
  id = "socket2web",
): string[] {
  return WISP_WORKLOADS.map((workload) =>
    row(workload, median(table[id]?.[workload] ?? []), median(table["wisp-js"]?.[workload] ?? [])),
  );
}

const fixed = (value: number | undefined, digits: number): string =>
  value === undefined ? "-" : value.toFixed(digits);

const median = (values: number[]): number | undefined => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

const UNITS: Record<WispWorkload, string> = {
  "download-1": "MB/s, 1 stream, target → client",
  "download-8": "MB/s, 8 streams on one connection, target → client",
  "upload-1": "MB/s, 1 stream, client → target",
  "upload-8": "MB/s, 8 streams on one connection, client → target",
  opens: "streams opened per second on one connection (16 in flight)",
};

/** The Markdown section, with socket2web's ratio to wisp-js per workload (target: ≥ 2×). */
export function wispReport(results: WispResults): string[] {
  const lines = [
    "## Wisp: wisp-js client, Socket2Web vs the wisp-js server",
    "",
    `Medians; the same unmodified wisp-js client (its own process, on ${results.clientRuntime ?? "Bun"})`,
    "drives both servers, and the client's own CPU (it copies every packet) bounds what either",
    "server can show: see its CPU per second below. Load average (1 min)",
    `${results.load.before} before and ${results.load.after} after the run: on a 2-core`,
    "machine shared with other work, compare only figures taken together.",
    "",
    "| workload | socket2web | wisp-js | ratio (target ≥ 2×) |",
    "|---|---|---|---|",
  ];
  lines.push(
    ...tableRows(results.runs, (workload, ours, theirs) => {
      const ratio = ours !== undefined && theirs ? ours / theirs : undefined;
      const verdict =
        ratio === undefined ? "-" : `${ratio.toFixed(2)}× ${ratio >= 2 ? "(met)" : "(not met)"}`;
      return `| ${UNITS[workload]} | ${fixed(ours, 0)} | ${fixed(theirs, 0)} | ${verdict} |`;
    }),
  );
  const efficiency = results.perCpuSecond;
  if (efficiency) {
    lines.push(
      "",
      "The same work per second of the server's own CPU (user + system of its process tree), which",
      "the machine's load disturbs far less than throughput:",
      "",
      "| workload | socket2web | wisp-js | ratio |",
      "|---|---|---|---|",
      ...tableRows(efficiency, (workload, ours, theirs) => {
        const ratio = ours !== undefined && theirs ? ours / theirs : undefined;
        const unit = workload === "opens" ? "streams opened" : `MB, ${UNITS[workload].slice(6)}`;
        return `| ${unit} | ${fixed(ours, 0)} | ${fixed(theirs, 0)} | ${fixed(ratio, 2)}× |`;
      }),
    );
  }
  if (efficiency?.["socket2web-bun-defaults"]) {
    lines.push(
      "",
      "Socket2Web kept at Bun's runtime defaults (`MIMALLOC_PURGE_DELAY=100`,",
      "`BUN_JSC_useFTLJIT=true`, so it does not restart itself with its own at start-up;",
      "docs/operations.md), same run:",
      "",
      "| workload | rate | rate ratio | work per server CPU second | ratio |",
      "|---|---|---|---|---|",
      ...WISP_WORKLOADS.map((workload) => {
        const rate = median(results.runs["socket2web-bun-defaults"]?.[workload] ?? []);
        const theirRate = median(results.runs["wisp-js"]?.[workload] ?? []);
        const work = median(efficiency["socket2web-bun-defaults"]?.[workload] ?? []);
        const theirWork = median(efficiency["wisp-js"]?.[workload] ?? []);
        const ratio = (a: number | undefined, b: number | undefined) =>
          a !== undefined && b ? `${(a / b).toFixed(2)}×` : "-";
        return `| ${UNITS[workload]} | ${fixed(rate, 0)} | ${ratio(rate, theirRate)} | ${fixed(work, 0)} | ${ratio(work, theirWork)} |`;
      }),
    );
  }
  const busy = results.clientBusy;
  if (busy && Object.keys(busy).length > 0) {
    lines.push(
      "",
      "The client's CPU seconds per second of each run (1.00 = a whole core of the two): near 1,",
      "the client, not the server, sets the rate.",
      "",
      "| workload | with socket2web | with wisp-js |",
      "|---|---|---|",
      ...tableRows(
        busy,
        (workload, ours, theirs) =>
          `| ${UNITS[workload]} | ${fixed(ours, 2)} | ${fixed(theirs, 2)} |`,
      ),
    );
  }
  if (results.errors.length > 0) {
    lines.push("", "Errors:", "", ...results.errors.map((e) => `- ${e}`));
  }
  lines.push(
    "",
    "WispMark's method (wisp-js client processes at 1, 10 and 5 × 10 streams, 50 KiB sends to an",
    "echo target): [wispmark.md](wispmark.md), `bun run bench/run.ts --phases=wispmark`.",
  );
  return lines;
}
