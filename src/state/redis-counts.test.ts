import { describe, expect, test } from "bun:test";
import { startRedis, useRedis } from "../../tests/helpers/redis.ts";
import { createLogger } from "../log/logger.ts";
import { addressLimits } from "./address-limits.ts";
import type { LimitsMode } from "./counts.ts";
import { type RedisCountsOptions, redisCounts } from "./redis-counts.ts";

// Against a real redis-server on loopback: two stores in this process stand for two instances.
const shared = useRedis();
const missing = shared.missing;
const logger = createLogger("error");
let prefix = 0;

const store = (
  instance: string,
  rate = 0,
  maxPerAddress = 2,
  leaseMs = 3000,
  modes?: LimitsMode[],
) =>
  sharedAddressLimits(
    { rate, burst: rate, maxPerAddress },
    {
      url: shared.url(),
      instance,
      leaseMs,
      prefix: `t${prefix}`,
      fallback: "local",
      logger,
      ...(modes ? { onMode: (mode: LimitsMode) => modes.push(mode) } : {}),
    },
  );

/** Address limits over a store of their own, with the store's mode, connected() and close(). */
function sharedAddressLimits(
  settings: Parameters<typeof addressLimits>[1],
  options: RedisCountsOptions,
) {
  const counts = redisCounts(options);
  const limits = addressLimits(counts, settings);
  return {
    admit: limits.admit,
    release: limits.release,
    connected: counts.connected,
    close: counts.close,
    get mode() {
      return counts.mode;
    },
  };
}

describe.skipIf(missing.length > 0)("address limits shared through Redis", () => {
  test("a per-address limit holds across instances, and a release frees a slot for any of them", async () => {
    prefix++;
    const a = store("a");
    const b = store("b");
    await Promise.all([a.connected(), b.connected()]);
    expect(await a.admit("10.0.0.1", true)).toBe("ok");
    expect(await b.admit("10.0.0.1", true)).toBe("ok");
    expect(await a.admit("10.0.0.1", true)).toBe("per_ip");
    expect(await b.admit("10.0.0.2", true)).toBe("ok");
    b.release("10.0.0.1");
    for (let i = 0; i < 100 && (await a.admit("10.0.0.1", true)) !== "ok"; i++) await Bun.sleep(5);
    expect(await b.admit("10.0.0.1", true)).toBe("per_ip");
    await Promise.all([a.close(), b.close()]);
  });

  test("the rate limit is one bucket for the fleet", async () => {
    prefix++;
    const a = store("a", 1);
    const b = store("b", 1);
    await Promise.all([a.connected(), b.connected()]);
    expect(await a.admit("10.0.0.9", false)).toBe("ok");
    expect(await b.admit("10.0.0.9", false)).toBe("rate_limit");
    await Promise.all([a.close(), b.close()]);
  });

  test("an instance whose lease ran out stops counting", async () => {
    prefix++;
    const survivor = store("survivor", 0, 1, 3000);
    await survivor.connected();
    // Another instance holds the address's one slot under a lease it no longer renews (it died).
    const raw = new Bun.RedisClient(shared.url());
    await raw.send("SET", [`t${prefix}:alive:ghost`, "1", "PX", "300"]);
    await raw.send("HSET", [`t${prefix}:conn:ip:10.0.0.3`, "ghost", "1"]);
    expect(await survivor.admit("10.0.0.3", true)).toBe("per_ip");
    let verdict = "";
    for (let i = 0; i < 200; i++) {
      verdict = await survivor.admit("10.0.0.3", true);
      if (verdict === "ok") break;
      await Bun.sleep(10);
    }
    expect(verdict).toBe("ok");
    expect(survivor.mode).toBe("fleet");
    // The dead instance's count is gone from the store, not just ignored.
    expect(await raw.send("HGET", [`t${prefix}:conn:ip:10.0.0.3`, "ghost"])).toBeNull();
    raw.close();
    await survivor.close();
  });

  test("without Redis each instance counts alone, and its counts reach Redis again on recovery", async () => {
    prefix++;
    const own = await startRedis();
    const modes: LimitsMode[] = [];
    const a = sharedAddressLimits(
      { rate: 0, burst: 0, maxPerAddress: 1 },
      {
        url: `redis://127.0.0.1:${own.port}`,
        instance: "a",
        leaseMs: 3000,
        prefix: "r",
        fallback: "local",
        logger,
        onMode: (mode) => modes.push(mode),
      },
    );
    await a.connected();
    await own.stop();
    // The store is gone: the verdict comes from this process's own counts, at once.
    for (let i = 0; i < 200 && a.mode !== "degraded"; i++) await Bun.sleep(5);
    expect(await a.admit("10.0.0.4", true)).toBe("ok");
    expect(await a.admit("10.0.0.4", true)).toBe("per_ip");
    const back = await startRedis({ port: own.port });
    for (let i = 0; i < 600 && a.mode !== "fleet"; i++) await Bun.sleep(10);
    expect(modes).toEqual(["fleet", "degraded", "fleet"]);
    const raw = new Bun.RedisClient(`redis://127.0.0.1:${own.port}`);
    expect(await raw.send("HGET", ["r:conn:ip:10.0.0.4", "a"])).toBe("1");
    raw.close();
    await a.close();
    await back.stop();
  }, 30_000);
});
