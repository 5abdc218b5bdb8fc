import { describe, expect, it } from "bun:test";
import { createMemoryReplayGuard } from "./replay.ts";

describe("the in-memory replay guard", () => {
  it("claims an id once until it expires, then forgets it", async () => {
    let now = 1_000;
    const guard = createMemoryReplayGuard({ maxEntries: 10, now: () => now });
    expect(await guard.claim("a", 2_000)).toBe("claimed");
    expect(await guard.claim("a", 2_000)).toBe("replayed");
    expect(await guard.claim("b", 2_000)).toBe("claimed");
    now = 2_000;
    // Expired: the ticket itself is refused by its exp; the id need not be kept.
    expect(await guard.claim("a", 3_000)).toBe("claimed");
    expect(guard.size).toBeLessThanOrEqual(2);
  });

  it("is bounded: a full guard refuses new ids instead of forgetting live ones", async () => {
    let now = 0;
    const guard = createMemoryReplayGuard({ maxEntries: 3, now: () => now });
    for (const id of ["a", "b", "c"]) expect(await guard.claim(id, 100)).toBe("claimed");
    expect(await guard.claim("d", 100)).toBe("full");
    expect(await guard.claim("a", 100)).toBe("replayed");
    expect(guard.size).toBe(3);
    now = 100;
    expect(await guard.claim("d", 200)).toBe("claimed");
    expect(guard.size).toBe(1);
  });

  it("memory follows expiry: ids that expired are swept as new ones arrive", async () => {
    let now = 0;
    const guard = createMemoryReplayGuard({ maxEntries: 1_000_000, now: () => now });
    for (let i = 0; i < 1_000; i++) {
      now = i;
      expect(await guard.claim(`id-${i}`, i + 10)).toBe("claimed");
    }
    // Only the ids of the last 10 ms are alive; the sweep keeps up with arrivals.
    expect(guard.size).toBeLessThan(30);
  });
});
