// `bun run bench/profile/session-memory.ts [--rows=lean,source,binary] [--hold=1000] [--warmup=10]`:
// warm RSS per held session. Each row's process first runs `warmup` rounds of 2,000 sessions
// (opened, echoed, closed: the JIT settles, as in a server that has run a while), then holds
// `hold` sessions; RSS growth over the warm idle level, per session. `make bench` measures a
// fresh process instead (300 sessions of warm-up), where compiled code and garbage not yet
// collected count too.
import { readFileSync } from "node:fs";
import { installCleanup, spawnTracked, stopAll } from "../lib/procs.ts";
import { startListening } from "../rows/listening.ts";
import { BUN, ROOT } from "../rows/row.ts";
import { BINARY, socket2webArgs } from "../rows/socket2web.ts";
import { runSessions } from "./sessions-client.ts";

function flag(name: string, fallback: string): string {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg ? arg.slice(name.length + 3) : fallback;
}

const HOLD = Number(flag("hold", "1000"));
const WARMUP_ROUNDS = Number(flag("warmup", "10"));
const commands: Record<string, (port: number) => string[]> = {
  lean: (p) => [BUN, "run", `${ROOT}bench/profile/lean-relay.ts`, String(p)],
  source: (p) => [BUN, `${ROOT}src/main.ts`, ...socket2webArgs(p)],
  binary: (p) => [BINARY, ...socket2webArgs(p)],
};
const rows = flag("rows", "lean,source,binary").split(",");

const rssKiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);

installCleanup();
const target = spawnTracked("target", [BUN, "run", `${ROOT}bench/targets/server.ts`]);
const targetPort = (
  JSON.parse(await target.waitForLine((l) => l.startsWith("{"), 10_000)) as { port: number }
).port;
try {
  for (const id of rows) {
    const command = commands[id];
    if (!command) throw new Error(`unknown row ${id}: lean, source or binary`);
    const { proc, port } = await startListening(id, command, { readyText: "listening on" });
    const url = `ws://127.0.0.1:${port}/`;
    await runSessions(url, targetPort, 300);
    const fresh = rssKiB(proc.pid);
    for (let i = 0; i < WARMUP_ROUNDS; i++) await runSessions(url, targetPort, 2000);
    await Bun.sleep(800);
    const idle = rssKiB(proc.pid);
    let plateau = idle;
    await runSessions(url, targetPort, HOLD, async () => {
      await Bun.sleep(800);
      plateau = rssKiB(proc.pid);
    });
    console.log(
      `${id.padEnd(7)} RSS after 300 sessions ${(fresh / 1024).toFixed(0)} MiB, after ${WARMUP_ROUNDS} × 2,000 ${(idle / 1024).toFixed(0)} MiB; holding ${HOLD}: +${((plateau - idle) / HOLD).toFixed(1)} KiB/session`,
    );
    await proc.stop();
  }
} finally {
  await stopAll();
}
process.exit(0);
