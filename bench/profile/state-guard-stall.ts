// Does src/state/redis-connection.ts's 250 ms guard judge Redis, or the proxy's own event loop?
// A real redis-server answers a PING in microseconds; this process then keeps its event loop busy
// (as a long GC pause, a JIT burst or a CPU-starved container would) for longer than the guard,
// and reports whether `timed` saw the answer or "no answer in time" (which makes the limits drop
// the connection and count in process until it reconnects).
// `bun run bench/profile/state-guard-stall.ts`
import { COMMAND_TIMEOUT_MS, redisConnection } from "../../src/state/redis-connection.ts";
import { installCleanup } from "../lib/procs.ts";
import { startBenchRedis } from "../lib/redis.ts";

installCleanup();
const redis = await startBenchRedis();
const connection = redisConnection({ url: redis.url });
await connection.firstUp;
for (const busyMs of [
  0,
  COMMAND_TIMEOUT_MS - 50,
  COMMAND_TIMEOUT_MS + 50,
  2 * COMMAND_TIMEOUT_MS,
]) {
  const client = connection.current();
  if (!client) throw new Error("not connected");
  const answered = connection.timed(client.send("PING", [])).then(
    () => "answered",
    (error: Error) => error.message,
  );
  const until = performance.now() + busyMs;
  while (performance.now() < until) {
    // The loop is busy: Redis's answer waits in the socket.
  }
  console.log(`event loop busy ${busyMs} ms after the PING: ${await answered}`);
}
connection.close();
await redis.proc.stop(1000);
process.exit(0);
