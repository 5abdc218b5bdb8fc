import { describe, expect, it } from "bun:test";
import fc from "fast-check";
import { createRateLimiter } from "./rate-limit.ts";

function clock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("createRateLimiter", () => {
  it("allows a burst of capacity, then refuses with a retry hint", () => {
    const time = clock();
    const limiter = createRateLimiter({
      capacity: 3,
      refillPerSecond: 1,
      maxKeys: 10,
      now: time.now,
    });
    expect([1, 2, 3].map(() => limiter.take("a").allowed)).toEqual([true, true, true]);
    expect(limiter.take("a")).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.take("b").allowed).toBe(true);
  });

  it("refills at the configured rate and never above capacity", () => {
    const time = clock();
    const limiter = createRateLimiter({
      capacity: 2,
      refillPerSecond: 2,
      maxKeys: 10,
      now: time.now,
    });
    limiter.take("a");
    limiter.take("a");
    expect(limiter.take("a").allowed).toBe(false);
    time.advance(499);
    expect(limiter.take("a").allowed).toBe(false);
    time.advance(1);
    expect(limiter.take("a").allowed).toBe(true);
    expect(limiter.take("a").allowed).toBe(false);
    time.advance(60_000);
    expect([1, 2, 3].map(() => limiter.take("a").allowed)).toEqual([true, true, false]);
  });

  it("mints nothing when the clock steps back", () => {
    const time = clock();
    const limiter = createRateLimiter({
      capacity: 1,
      refillPerSecond: 1,
      maxKeys: 10,
      now: time.now,
    });
    limiter.take("a");
    time.advance(-10_000);
    expect(limiter.take("a").allowed).toBe(false);
    time.advance(10_500);
    expect(limiter.take("a").allowed).toBe(false);
    time.advance(500);
    expect(limiter.take("a").allowed).toBe(true);
  });

  it("stays within maxKeys under a flood of keys, forgetting the stalest", () => {
    const time = clock();
    const limiter = createRateLimiter({
      capacity: 1,
      refillPerSecond: 0.001,
      maxKeys: 100,
      now: time.now,
    });
    limiter.take("victim");
    for (let i = 0; i < 10_000; i++) limiter.take(`flood-${i}`);
    expect(limiter.size).toBe(100);
    // Recently active keys keep their state.
    expect(limiter.take("flood-9999").allowed).toBe(false);
  });

  it("keeps a key that stays active while others come and go", () => {
    const time = clock();
    const limiter = createRateLimiter({
      capacity: 1,
      refillPerSecond: 0.001,
      maxKeys: 3,
      now: time.now,
    });
    limiter.take("busy");
    for (let i = 0; i < 10; i++) {
      expect(limiter.take("busy").allowed).toBe(false);
      limiter.take(`other-${i}`);
    }
  });

  it.each([
    { capacity: 0, refillPerSecond: 1, maxKeys: 1 },
    { capacity: 1, refillPerSecond: 0, maxKeys: 1 },
    { capacity: 1, refillPerSecond: 1, maxKeys: 0 },
    { capacity: Number.NaN, refillPerSecond: 1, maxKeys: 1 },
  ])("refuses options %j", (options) => {
    expect(() => createRateLimiter(options)).toThrow(RangeError);
  });

  it("never allows more than capacity + elapsed * rate (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.integer({ min: 0, max: 2000 }), { maxLength: 50 }),
        (capacity, rate, gaps) => {
          const time = clock();
          const limiter = createRateLimiter({
            capacity,
            refillPerSecond: rate,
            maxKeys: 1,
            now: time.now,
          });
          let allowed = 0;
          let elapsed = 0;
          for (const gap of gaps) {
            time.advance(gap);
            elapsed += gap;
            if (limiter.take("k").allowed) allowed++;
          }
          expect(allowed).toBeLessThanOrEqual(capacity + Math.floor((elapsed / 1000) * rate));
        },
      ),
    );
  });
});
