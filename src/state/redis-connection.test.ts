import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { missingRedisBinaries, type RunningRedis, startRedis } from "../../tests/helpers/redis.ts";
import { COMMAND_TIMEOUT_MS, redisConnection } from "./redis-connection.ts";

const missing = missingRedisBinaries();
let redis: RunningRedis;

beforeAll(async () => {
  if (missing.length === 0) redis = await startRedis();
});
afterAll(() => redis?.stop());

describe.skipIf(missing.length > 0)("redisConnection.timed", () => {
  test("an answer that waited in the socket while this process's event loop stalled still counts", async () => {
    const connection = redisConnection({ url: `redis://127.0.0.1:${redis.port}` });
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
    const connection = redisConnection({ url: `redis://127.0.0.1:${redis.port}` });
    await connection.firstUp;
    const never = new Promise<never>(() => {});
    const started = performance.now();
    await expect(connection.timed(never, 50)).rejects.toThrow("no answer in time");
    expect(performance.now() - started).toBeGreaterThanOrEqual(49);
    connection.close();
  });
});
