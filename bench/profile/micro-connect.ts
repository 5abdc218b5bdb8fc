// CPU per Bun.connect (+ accept, same process) on loopback, in two handler styles: bare, and
// socket2web's (shared handlers, `data`, pause + setNoDelay in `open`). ANALYSIS.md §2.
// `bun run bench/profile/micro-connect.ts`
import type { Socket } from "bun";

const CONNECTS = 3_000;
const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {}, error() {} } });

const shared = {
  open(socket: Socket<{ n: number }>) {
    socket.pause();
    socket.setNoDelay(true);
  },
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

for (let round = 0; round < 2; round++) {
  await measure("bare handlers", () =>
    Bun.connect({ hostname: "127.0.0.1", port: listener.port, socket: { data() {} } }),
  );
  await measure("socket2web style", () =>
    Bun.connect({ hostname: "127.0.0.1", port: listener.port, data: { n: 1 }, socket: shared }),
  );
}
listener.stop(true);
