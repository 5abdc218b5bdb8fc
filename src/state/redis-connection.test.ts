import { describe, expect, test } from "bun:test";
import { useRedis } from "../../tests/helpers/redis.ts";
import { COMMAND_TIMEOUT_MS, redisConnection } from "./redis-connection.ts";

const shared = useRedis();
const missing = shared.missing;

describe.skipIf(missing.length > 0)("redisConnection.timed", () => {
  test("an answer that waited in the socket while this process's event loop stalled still counts", async () => {
    const connection = redisConnection({ url: shared.url() });
    await connection.firstUp;
    const client = connection.current();
    if (!client) throw new Error("not connected");
    const answered = connection.timed(client.send("PING", []));
    // Busy past the guard: Redis answered within microseconds, the answer is not read yet.
    const until = performance.now() + 2 * COMMAND_TIMEOUT_MS;
    while (performance.now() < until) {
      // stalled
    }
    expect(await answered).toBe("PONG");
    connection.close();
  });

  test("Redis's own silence past the guard is an error", async () => {
    const connection = redisConnection({ url: shared.url() });
    await connection.firstUp;
    const never = new Promise<never>(() => {});
    const started = performance.now();
    await expect(connection.timed(never, 50)).rejects.toThrow("no answer in time");
    expect(performance.now() - started).toBeGreaterThanOrEqual(49);
    connection.close();
  });
});
