// CPU per connect (+ accept, same process) on loopback: Bun.connect in two handler styles, bare
// and socket2web's (shared handlers, `data`; `open` neither pauses nor sets TCP_NODELAY, which
// Bun sets itself), and socket2web's own `openTcp` both ways: direct (room in the budget of
// uncancellable connects) and cancellable (none: node:net starts it, the native socket is adopted).
// The first round includes each path's JIT warm-up; later rounds are warm. ANALYSIS.md §2.
// `bun run bench/profile/micro-connect.ts`
import type { Socket } from "bun";
import { ConnectBudget } from "../../src/adapters/connect-budget.ts";
import { openTcp } from "../../src/adapters/tcp-connect.ts";
import type { TargetEvents } from "../../src/adapters/types.ts";

const CONNECTS = 3_000;
const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {}, error() {} } });

const shared = {
  open(_socket: Socket<{ n: number }>) {},
  data() {},
  drain() {},
  end() {},
  error() {},
  close() {},
};

async function measure(name: string, connect: () => Promise<{ end(): void }>): Promise<void> {
  const sockets: { end(): void }[] = [];
  const cpu = process.cpuUsage();
  const started = Bun.nanoseconds();
  for (let i = 0; i < CONNECTS; i++) sockets.push(await connect());
  const wall = (Bun.nanoseconds() - started) / CONNECTS / 1000;
  const used = process.cpuUsage(cpu);
  for (const socket of sockets) socket.end();
  await Bun.sleep(300);
  console.log(
    `${name.padEnd(44)} wall ${wall.toFixed(1)} µs, CPU ${((used.user + used.system) / CONNECTS).toFixed(1)} µs per connect`,
  );
}

const ignored: TargetEvents = { data() {}, drain() {}, end() {}, error() {} };
const viaOpenTcp = (budget: ConnectBudget) => () =>
  openTcp({
    address: "127.0.0.1",
    port: listener.port,
    where: "127.0.0.1",
    signal: new AbortController().signal,
    events: ignored,
    budget,
  }).then((connection) => ({ end: () => connection.destroy() }));

for (let round = 0; round < 3; round++) {
  await measure("bare handlers", () =>
    Bun.connect({ hostname: "127.0.0.1", port: listener.port, socket: { data() {} } }),
  );
  await measure("socket2web style", () =>
    Bun.connect({ hostname: "127.0.0.1", port: listener.port, data: { n: 1 }, socket: shared }),
  );
  await measure("socket2web openTcp, direct", viaOpenTcp(new ConnectBudget(1)));
  await measure("socket2web openTcp, cancellable (node:net)", viaOpenTcp(new ConnectBudget(0)));
}
listener.stop(true);
