import { describe, expect, test } from "bun:test";
import { useRedis } from "../../tests/helpers/redis.ts";
import { createLogger } from "../log/logger.ts";
import { FLEET_ANSWER_TIMEOUT_MS, type FleetLink, fleetLink } from "./fleet-link.ts";
import { createRevocations } from "./revocations.ts";

// Against a real redis-server on loopback: several links in this process stand for instances.
const shared = useRedis();
const missing = shared.missing;
const logger = createLogger("error");
let prefix = 0;

/** A link that is listening (its question to itself comes back). */
async function member(instance: string, revocations = createRevocations()): Promise<FleetLink> {
  const link = fleetLink({
    url: shared.url(),
    instance,
    prefix: `f${prefix}`,
    logger,
    revocations,
  });
  link.serve(async (question) => ({ from: instance, question }));
  for (let i = 0; i < 200; i++) {
    try {
      await link.ask("ping");
      return link;
    } catch {
      await Bun.sleep(10);
    }
  }
  throw new Error(`${instance} never listened`);
}

describe.skipIf(missing.length > 0)("fleetLink", () => {
  test("a question reaches every instance, the asker included, and each answer names its instance", async () => {
    prefix++;
    const links = [await member("a"), await member("b"), await member("c")];
    const { answers, unanswered } = await (links[1] as FleetLink).ask({ op: "hello" });
    expect(unanswered).toBe(0);
    expect(answers.map((answer) => answer.instance).sort()).toEqual(["a", "b", "c"]);
    expect(answers.find((answer) => answer.instance === "c")?.result).toEqual({
      from: "c",
      question: { op: "hello" },
    });
    for (const link of links) link.close();
  });

  test("an instance that hears but does not answer is counted, and the asker stops waiting", async () => {
    prefix++;
    const quick = await member("quick");
    const slow = await member("slow");
    slow.serve(() => new Promise(() => {}));
    const started = Date.now();
    const { answers, unanswered } = await quick.ask("anyone?");
    expect(answers.map((answer) => answer.instance)).toEqual(["quick"]);
    expect(unanswered).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(FLEET_ANSWER_TIMEOUT_MS - 50);
    // `enough` ends the wait as soon as the answer wanted is in.
    const early = Date.now();
    await quick.ask("yours?", (got) => got.some((answer) => answer.instance === "quick"));
    expect(Date.now() - early).toBeLessThan(FLEET_ANSWER_TIMEOUT_MS);
    quick.close();
    slow.close();
  });

  test("a handler's error is the answer; what is not a message is ignored", async () => {
    prefix++;
    const link = await member("x");
    link.serve(async () => {
      throw new Error("no such op");
    });
    const raw = new Bun.RedisClient(shared.url());
    await raw.send("PUBLISH", [`f${prefix}:control`, "not json"]);
    await raw.send("PUBLISH", [`f${prefix}:control`, "[1,2]"]);
    const { answers } = await link.ask("op?");
    expect(answers).toEqual([{ instance: "x", result: { error: "no such op" } }]);
    raw.close();
    link.close();
  });

  test("revocations stored in Redis reach an instance that connects later; passed ones are dropped", async () => {
    prefix++;
    const first = await member("first");
    await first.revoke("alice", Date.now() + 60_000);
    const raw = new Bun.RedisClient(shared.url());
    await raw.send("HSET", [`f${prefix}:revoked`, "old", String(Date.now() - 1000)]);
    const later = createRevocations();
    const second = await member("second", later);
    expect(later.until("alice")).toBeGreaterThan(Date.now());
    expect(later.until("old")).toBeUndefined();
    expect(await raw.send("HEXISTS", [`f${prefix}:revoked`, "old"])).toBe(0);
    raw.close();
    first.close();
    second.close();
  });
});
