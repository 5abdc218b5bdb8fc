import { describe, expect, test } from "bun:test";
import { createIdleCollector } from "./idle-collect.ts";

function collector(threshold = 3) {
  let collections = 0;
  const idle = createIdleCollector({
    threshold,
    // Checks are driven by hand below; the interval never fires within a test.
    intervalMs: 3_600_000,
    collect: () => collections++,
  });
  return { idle, collections: () => collections };
}

describe("idle collector", () => {
  test("collects once after enough sessions ended and a whole check passed quietly", () => {
    const { idle, collections } = collector();
    for (let i = 0; i < 3; i++) idle.ended();
    idle.check(); // the check in which they ended: still busy
    expect(collections()).toBe(0);
    idle.check();
    expect(collections()).toBe(1);
    idle.check();
    expect(collections()).toBe(1);
    idle.stop();
  });

  test("waits while sessions keep starting or ending", () => {
    const { idle, collections } = collector();
    for (let i = 0; i < 5; i++) idle.ended();
    for (let i = 0; i < 10; i++) {
      idle.started();
      idle.check();
    }
    expect(collections()).toBe(0);
    idle.check();
    expect(collections()).toBe(1);
    idle.stop();
  });

  test("does not collect for a few sessions", () => {
    const { idle, collections } = collector();
    idle.ended();
    idle.ended();
    idle.check();
    idle.check();
    expect(collections()).toBe(0);
    idle.stop();
  });
});
