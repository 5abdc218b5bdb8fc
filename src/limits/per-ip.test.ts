import { describe, expect, it } from "bun:test";
import { createConnectionCounter, ipKey } from "./per-ip.ts";

describe("ipKey", () => {
  it.each([
    ["127.0.0.1", "127.0.0.1"],
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["::ffff:7f00:1", "127.0.0.1"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"],
    ["::1", "::/64"],
    ["not-an-ip", "not-an-ip"],
  ])("%s -> %s", (address, key) => {
    expect(ipKey(address)).toBe(key);
  });
});

describe("createConnectionCounter", () => {
  it("allows up to the maximum per key", () => {
    const counter = createConnectionCounter(2);
    const first = counter.tryAcquire("a");
    const second = counter.tryAcquire("a");
    expect(first).not.toBeNull();
    expect(second).not.toBeNull();
    expect(counter.tryAcquire("a")).toBeNull();
    expect(counter.tryAcquire("b")).not.toBeNull();
    expect(counter.count("a")).toBe(2);
  });

  it("frees a slot on release, and a second release does nothing", () => {
    const counter = createConnectionCounter(2);
    const first = counter.tryAcquire("a");
    counter.tryAcquire("a");
    first?.();
    first?.();
    expect(counter.count("a")).toBe(1);
    expect(counter.tryAcquire("a")).not.toBeNull();
    expect(counter.tryAcquire("a")).toBeNull();
  });

  it("forgets keys with no connection, so memory follows open connections", () => {
    const counter = createConnectionCounter(1);
    const releases = Array.from({ length: 1000 }, (_, i) => counter.tryAcquire(`k${i}`));
    expect(counter.size).toBe(1000);
    for (const release of releases) release?.();
    expect(counter.size).toBe(0);
  });

  it.each([0, -1, 1.5, Number.NaN])("refuses a maximum of %p", (max) => {
    expect(() => createConnectionCounter(max)).toThrow(RangeError);
  });
});
