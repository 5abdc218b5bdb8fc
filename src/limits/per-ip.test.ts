import { describe, expect, it } from "bun:test";
import { ipKey } from "./per-ip.ts";

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
