import { afterAll, beforeAll, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { missingRedisBinaries } from "../../tests/helpers/redis.ts";
import {
  type BenchRedis,
  commandDelta,
  redisCli,
  redisSnapshot,
  startBenchRedis,
} from "./redis.ts";

const missing = missingRedisBinaries();
let redis: BenchRedis;

beforeAll(async () => {
  if (missing.length === 0) redis = await startBenchRedis();
});
afterAll(async () => {
  await redis?.proc.stop(1000);
});

// The state phase's figures stand on this: a script's own commands are counted beside it, and a
// snapshot (one redis-cli INFO) costs Redis 2 reads and 1 write, which proxyShare takes off.
test.skipIf(missing.length > 0)(
  "a client's EVAL is counted with the commands its script ran, the harness's INFO left out",
  async () => {
    const before = redisSnapshot(redis.port);
    const client = new RedisClient(redis.url, { enableOfflineQueue: false });
    await client.connect();
    const script = "redis.call('TIME'); return redis.call('HINCRBY', KEYS[1], 'n', 1)";
    await Promise.all([1, 2, 3].map(() => client.send("EVAL", [script, "1", "k"])));
    client.close();
    redisCli(redis.port, ["INFO", "server"]);
    const after = redisSnapshot(redis.port);
    const delta = commandDelta(before.commands, after.commands);
    expect(delta.eval?.calls).toBe(3);
    expect(delta.time?.calls).toBe(3);
    expect(delta.hincrby?.calls).toBe(3);
    expect(delta.info).toBeUndefined();
    const infos = (after.commands.info?.calls ?? 0) - (before.commands.info?.calls ?? 0);
    expect(infos).toBe(2);
    // The client's reads: its connection's handshake and the EVALs, fewer than one per command
    // when they arrive together.
    const clientReads = after.reads - before.reads - 2 * infos;
    expect(clientReads).toBeGreaterThan(0);
    expect(clientReads).toBeLessThanOrEqual(3 + 3);
  },
  20_000,
);
