// `bun run bench/profile/session-heap.ts [--hold=2000] [--cycles=8]`: what an idle session keeps
// alive, and whether anything stays behind. The server runs in this process (the real
// startServer, default settings); a client process opens `hold` sessions (handshake + 1 KiB echo)
// and holds them. After full collections: JS heap and object counts per held session, then
// `cycles` rounds of open → close with the heap and RSS after each (a leak grows them).
import { heapStats } from "bun:jsc";
import { createConsola, LogLevels } from "consola";
import { defaultServerConfig } from "../../src/config/defaults.ts";
import { mapResolver } from "../../src/net/resolver.ts";
import { startServer } from "../../src/server/server.ts";
import { installCleanup, spawnTracked, stopAll } from "../lib/procs.ts";
import { BUN, ROOT } from "../rows/row.ts";
import { runSessions } from "./sessions-client.ts";

function flag(name: string, fallback: string): string {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg ? arg.slice(name.length + 3) : fallback;
}

const HOLD = Number(flag("hold", "2000"));
const CYCLES = Number(flag("cycles", "8"));
const MiB = 2 ** 20;

installCleanup();
const server = startServer(
  { ...(await defaultServerConfig()), port: 0, maxConnections: 20_000 },
  {
    logger: createConsola({ level: LogLevels.warn }),
    resolver: mapResolver({}),
    // Collections are made here, at known points.
    collectGarbage: () => {},
  },
);
const target = spawnTracked("target", [BUN, "run", `${ROOT}bench/targets/server.ts`]);
const targetPort = (
  JSON.parse(await target.waitForLine((l) => l.startsWith("{"), 10_000)) as { port: number }
).port;

function census() {
  Bun.gc(true);
  Bun.gc(true);
  const stats = heapStats();
  return { heap: stats.heapSize, counts: stats.objectTypeCounts as Record<string, number> };
}

try {
  for (let i = 0; i < 5; i++) await runSessions(server.url, targetPort, 2000);
  const before = census();
  let held = before;
  await runSessions(server.url, targetPort, HOLD, () => {
    held = census();
  });
  console.log(
    `JS heap per held session: ${((held.heap - before.heap) / HOLD).toFixed(0)} bytes; objects per session:`,
  );
  const perSession = Object.entries(held.counts)
    .map(([type, n]) => [type, (n - (before.counts[type] ?? 0)) / HOLD] as const)
    .filter(([, n]) => n >= 0.5)
    .sort((a, b) => b[1] - a[1]);
  for (const [type, n] of perSession) console.log(`${n.toFixed(2).padStart(7)}  ${type}`);
  for (let i = 1; i <= CYCLES; i++) {
    await runSessions(server.url, targetPort, HOLD);
    const rss = process.memoryUsage().rss;
    const after = census();
    console.log(
      `cycle ${i}: RSS ${(rss / MiB).toFixed(1)} MiB before a collection, ${(process.memoryUsage().rss / MiB).toFixed(1)} after; JS heap ${(after.heap / MiB).toFixed(1)} MiB`,
    );
  }
} finally {
  await server.shutdown(0);
  await stopAll();
}
process.exit(0);
