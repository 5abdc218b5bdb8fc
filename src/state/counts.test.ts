import { describe, expect, it } from "bun:test";
import { localCounts } from "./counts.ts";

const most = (n: number) => ({ most: n, capacity: 0, rate: 0 });

describe("localCounts", () => {
  it("holds up to the most per key; other keys are apart", () => {
    const counts = localCounts();
    expect(counts.admit("a", most(2), true)).toBe("ok");
    expect(counts.admit("a", most(2), true)).toBe("ok");
    expect(counts.admit("a", most(2), true)).toBe("full");
    expect(counts.admit("b", most(2), true)).toBe("ok");
    expect(counts.held("a")).toBe(2);
  });

  it("a release frees a slot; releasing a key that holds none does nothing", () => {
    const counts = localCounts();
    counts.admit("a", most(1), true);
    counts.release("a");
    counts.release("a");
    expect(counts.held("a")).toBe(0);
    expect(counts.admit("a", most(1), true)).toBe("ok");
    expect(counts.admit("a", most(1), true)).toBe("full");
  });

  it("a slot held without asking counts against a most asked later", () => {
    const counts = localCounts();
    counts.hold("a");
    expect(counts.admit("a", most(1), true)).toBe("full");
  });

  it("forgets keys with no slot, so memory follows what is held", () => {
    const counts = localCounts();
    for (let i = 0; i < 1000; i++) counts.admit(`k${i}`, most(1), true);
    expect(counts.size()).toBe(1000);
    for (let i = 0; i < 1000; i++) counts.release(`k${i}`);
    expect(counts.size()).toBe(0);
  });

  it("takes a rate token per key from a bucket of the limits' shape, with or without a slot", () => {
    const counts = localCounts();
    const rate = { most: 0, capacity: 2, rate: 1 };
    expect(counts.admit("a", rate, false)).toBe("ok");
    expect(counts.admitHere("a", rate)).toBe("ok");
    expect(counts.admit("a", rate, true)).toBe("rate_limit");
    expect(counts.admit("b", rate, true)).toBe("ok");
  });
});
