// `bun run bench/profile/wisp-trace.ts [--shapes=1,10,5x10] [--seconds=5] [--entry=DIR/src/main.ts]`:
// where the bytes wait on a Wisp connection under the WispMark load (bench/phases/wispmark.ts's
// clients and echo target). The server runs with bench/profile/wisp-trace-preload.ts, which counts
// from inside it (credit grants, time without credit, streams held back, target write sizes,
// the WebSocket's queue, reads paused); each client samples its own streams' credit and
// WebSocket queue (`--trace`). One window per shape; prints one JSON object per shape, and the
// target's MiB/s and the server's CPU per MiB beside it. `--entry` traces another checkout.
import { dirname } from "node:path";
import { treeCpu } from "../lib/cpu-time.ts";
import { installCleanup, spawnTracked, stopAll, type Tracked } from "../lib/procs.ts";
import { wispClientCommand } from "../phases/wisp.ts";
import { WISPMARK_SHAPES } from "../phases/wispmark.ts";
import { startListening } from "../rows/listening.ts";
import { BUN, ROOT } from "../rows/row.ts";
import { SOURCE_ENTRY, socket2webArgs } from "../rows/socket2web.ts";

const args = new Map(
  process.argv.slice(2).map((arg) => {
    const [key = "", ...value] = arg.replace(/^--/, "").split("=");
    return [key, value.join("=")];
  }),
);
const seconds = Number(args.get("seconds") ?? 5);
const shapes = (args.get("shapes") ?? "1,10").split(",");
const entry = args.get("entry") ?? SOURCE_ENTRY;
/** `--perf=DIR`: also `perf record` the server through the window, one file per shape. */
const perfDir = args.get("perf");
/** `--server-env=NAME=VALUE,…`: the server's environment gets these (allocator options, say). */
const serverEnv = Object.fromEntries(
  (args.get("server-env") ?? "")
    .split(",")
    .filter((pair) => pair.includes("="))
    .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
);
/** `--cpu-prof=DIR`: the server under `bun --cpu-prof`, its profile written there as it stops. */
const cpuProfDir = args.get("cpu-prof");
/** `--no-preload`: the server as it runs in the bench (for `--perf` without the tracing's cost). */
const preload = !args.has("no-preload");
const MIB = 1024 * 1024;
const PAYLOAD = 50 * 1024;

installCleanup();

const cpuOf = (pid: number) => {
  const { user, system } = treeCpu(pid);
  return user + system;
};

async function targetBytes(target: Tracked, seq: number): Promise<number> {
  target.send(`count ${seq}`);
  const line = await target.waitForLine((l) => l.startsWith(`{"seq":${seq},`), 5000);
  return (JSON.parse(line) as { bytes: number }).bytes;
}

const lastLine = (text: string, prefix: string) =>
  text
    .split("\n")
    .filter((l) => l.startsWith(prefix))
    .at(-1);

async function main(): Promise<void> {
  const client = await wispClientCommand("wispmark-client");
  const echo = spawnTracked("counting-echo", [BUN, "run", `${ROOT}bench/targets/counting-echo.ts`]);
  const ready = await echo.waitForLine((l) => l.startsWith('{"port"'), 10_000);
  const targetPort = (JSON.parse(ready) as { port: number }).port;
  let seq = 1;
  for (const shape of WISPMARK_SHAPES.filter((s) => shapes.includes(s.id))) {
    const { proc: server, port } = await startListening(
      "socket2web-traced",
      (p) => [
        BUN,
        ...(preload ? ["--preload", `${ROOT}bench/profile/wisp-trace-preload.ts`] : []),
        ...(cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfDir}`] : []),
        entry,
        ...socket2webArgs(p),
        "--wisp",
        "/wisp/",
      ],
      {
        readyText: "listening on",
        cwd: ROOT,
        env: { WISP_TRACE_SRC: `${dirname(entry)}/`, ...serverEnv },
      },
    );
    const clients: Tracked[] = [];
    try {
      for (let i = 0; i < shape.processes; i++) {
        clients.push(
          spawnTracked("wispmark-client", [
            ...client.command,
            `--url=ws://127.0.0.1:${port}/wisp/`,
            `--target=127.0.0.1:${targetPort}`,
            `--streams=${shape.streams}`,
            `--payload=${PAYLOAD}`,
            "--trace",
          ]),
        );
      }
      for (const c of clients) await c.waitForLine((l) => l.includes('"ready"'), 15_000);
      await Bun.sleep(1000);
      const signal = () => {
        if (preload) process.kill(server.pid, "SIGUSR2");
        for (const c of clients) process.kill(c.pid, "SIGUSR2");
      };
      signal();
      const before = await targetBytes(echo, seq++);
      const cpuBefore = cpuOf(server.pid);
      const started = performance.now();
      const perf = perfDir
        ? Bun.spawn(
            [
              "perf",
              "record",
              "-q",
              "-F",
              "499",
              "-g",
              "-p",
              String(server.pid),
              "-o",
              `${perfDir}/perf-${shape.id}.data`,
              "--",
              "sleep",
              String(seconds),
            ],
            { stdout: "ignore", stderr: "ignore" },
          )
        : undefined;
      await Bun.sleep(seconds * 1000);
      await perf?.exited;
      signal();
      const bytes = (await targetBytes(echo, seq++)) - before;
      const elapsed = (performance.now() - started) / 1000;
      const cpu = cpuOf(server.pid) - cpuBefore;
      await Bun.sleep(300);
      const serverTrace = lastLine(server.output(), "WISP-TRACE ")?.slice("WISP-TRACE ".length);
      const clientTraces = clients.map((c) => {
        const line = lastLine(c.output(), '{"trace"');
        return line ? (JSON.parse(line) as { trace: unknown }).trace : undefined;
      });
      console.log(
        JSON.stringify(
          {
            shape: shape.id,
            entry,
            load: (await Bun.file("/proc/loadavg").text()).split(" ")[0],
            mibPerSecond: Number((bytes / MIB / elapsed).toFixed(1)),
            msCpuPerMib: Number(((cpu * 1000) / (bytes / MIB)).toFixed(2)),
            server: serverTrace ? JSON.parse(serverTrace) : "no trace line",
            clients: clientTraces,
          },
          null,
          1,
        ),
      );
    } finally {
      await Promise.all(clients.map((c) => c.stop()));
      await server.stop();
    }
  }
  await echo.stop();
}

try {
  await main();
} finally {
  await stopAll();
}
