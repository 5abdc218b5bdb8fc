// `bun run bench/profile/write-sizes.ts [--mib=2048] [--gather=1,10]`: CPU per MiB of Bun socket
// writes to a loopback sink (another process) in 50 KiB writes (a Wisp DATA payload each) against
// the same chunks gathered N at a time into one write with a copy: whether fewer, larger writes
// into a target would save CPU (docs/benchmarks/ANALYSIS.md: they do not).
import type { Socket } from "bun";
import { installCleanup, spawnTracked, stopAll } from "../lib/procs.ts";
import { BUN } from "../rows/row.ts";

const flag = (name: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const total = Number(flag("mib") ?? 2048) * 1024 * 1024;
const gathers = (flag("gather") ?? "1,10,1,10").split(",").map(Number);
const CHUNK = 50 * 1024;

installCleanup();

const SINK = `const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
console.log(l.port);`;

/** Writes `total` bytes as CHUNK-sized chunks, `gather` of them per write; CPU ms per MiB. */
async function run(port: number, gather: number): Promise<number> {
  const chunk = new Uint8Array(CHUNK).fill(7);
  const scratch = new Uint8Array(CHUNK * gather);
  let sent = 0;
  let rest: Uint8Array | undefined;
  const before = process.cpuUsage();
  await new Promise<void>((resolve, reject) => {
    const pump = (socket: Socket) => {
      while (sent < total) {
        let buffer = rest;
        if (!buffer && gather === 1) buffer = chunk;
        if (!buffer) {
          for (let i = 0; i < gather; i++) scratch.set(chunk, i * CHUNK);
          buffer = scratch;
        }
        const written = Math.max(0, socket.write(buffer));
        sent += written;
        // What the kernel did not take is kept as a copy: the scratch is refilled next time.
        rest = written < buffer.byteLength ? buffer.slice(written) : undefined;
        if (rest) return;
      }
      socket.end();
      resolve();
    };
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: { open: pump, drain: pump, data() {}, error: (_s, e) => reject(e) },
    }).catch(reject);
  });
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / (total / 1024 / 1024);
}

try {
  const sink = spawnTracked("sink", [BUN, "-e", SINK]);
  const port = Number(await sink.waitForLine((l) => /^\d+$/.test(l), 10_000));
  for (const gather of gathers) {
    const ms = await run(port, gather);
    console.log(`${CHUNK / 1024} KiB × ${gather} per write: ${ms.toFixed(3)} ms CPU per MiB`);
  }
} finally {
  await stopAll();
}
