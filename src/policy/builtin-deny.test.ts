import { describe, expect, it } from "bun:test";
import { parseAddress, parseAddressRange } from "../net/address.ts";
import { BUILTIN_DENIED, builtinDeniedClass, reopensBuiltin } from "./builtin-deny.ts";

function classOf(text: string): string | undefined {
  const address = parseAddress(text);
  if (address === null) throw new Error(`bad test address ${text}`);
  return builtinDeniedClass(address)?.name;
}

describe("builtin denied classes", () => {
  it.each([
    ["169.254.169.254", "cloud metadata address"],
    ["::ffff:169.254.169.254", "cloud metadata address"],
    ["::ffff:a9fe:a9fe", "cloud metadata address"],
    ["169.254.170.2", "cloud metadata address"],
    ["fd00:ec2::254", "cloud metadata address"],
    ["FD00:EC2:0:0:0:0:0:254", "cloud metadata address"],
    ["100.100.100.200", "cloud metadata address"],
    ["0.0.0.0", "unspecified address"],
    ["0.1.2.3", "unspecified address"],
    ["::ffff:0.0.0.0", "unspecified address"],
    ["::", "unspecified address"],
    ["0:0::0", "unspecified address"],
    ["224.0.0.1", "multicast address"],
    ["239.255.255.250", "multicast address"],
    ["ff02::1", "multicast address"],
    ["255.255.255.255", "broadcast address"],
  ])("%s is a %s", (address, name) => {
    expect(classOf(address)).toBe(name);
  });

  it.each([
    "127.0.0.1",
    "::1",
    "10.0.0.1",
    "192.168.1.100",
    "172.16.0.1",
    "fd00::1",
    "169.254.169.253",
    "169.254.1.1",
    "223.255.255.255",
    "240.0.0.1",
    "255.255.255.254",
    "1.1.1.1",
  ])("%s is not built-in denied (loopback and private stay reachable)", (address) => {
    expect(classOf(address)).toBeUndefined();
  });

  it("every class has a name and at least one range", () => {
    for (const denied of BUILTIN_DENIED) {
      expect(denied.name.length).toBeGreaterThan(0);
      expect(denied.ranges.length).toBeGreaterThan(0);
    }
  });

  it("is re-opened only by a range inside the class", () => {
    const metadata = BUILTIN_DENIED.find((c) => c.name === "cloud metadata address");
    const multicast = BUILTIN_DENIED.find((c) => c.name === "multicast address");
    if (!metadata || !multicast) throw new Error("classes missing");
    expect(reopensBuiltin(parseAddressRange("169.254.169.254"), metadata)).toBe(true);
    expect(reopensBuiltin(parseAddressRange("169.254.0.0/16"), metadata)).toBe(false);
    expect(reopensBuiltin(parseAddressRange("0.0.0.0/0"), metadata)).toBe(false);
    expect(reopensBuiltin(parseAddressRange("239.0.0.0/8"), multicast)).toBe(true);
    expect(reopensBuiltin(parseAddressRange("224.0.0.0/4"), multicast)).toBe(true);
    expect(reopensBuiltin(parseAddressRange("224.0.0.0/3"), multicast)).toBe(false);
    expect(reopensBuiltin(parseAddressRange("::/0"), multicast)).toBe(false);
  });
});
