import { describe, expect, it } from "bun:test";
import fc from "fast-check";
import ipaddr from "ipaddr.js";
import {
  AddressRangeError,
  formatRange,
  normaliseAddress,
  parseAddress,
  parseAddressRange,
  rangeContains,
} from "./address.ts";

describe("normaliseAddress", () => {
  it.each([
    ["127.0.0.1", "127.0.0.1"],
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["::ffff:7f00:1", "127.0.0.1"],
    ["::FFFF:7F00:1", "127.0.0.1"],
    ["0:0:0:0:0:ffff:7f00:1", "127.0.0.1"],
    ["::127.0.0.1", "127.0.0.1"],
    ["::7f00:1", "127.0.0.1"],
    ["::ffff:169.254.169.254", "169.254.169.254"],
    ["::ffff:0.0.0.0", "0.0.0.0"],
    ["::0.0.0.2", "0.0.0.2"],
    ["::", "::"],
    ["0:0:0:0:0:0:0:0", "::"],
    ["::1", "::1"],
    ["::0.0.0.1", "::1"],
    ["0000:0000::0001", "::1"],
    ["FD00:EC2:0::254", "fd00:ec2::254"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    // Not IPv4-mapped: these stay IPv6.
    ["::ffff:0:7f00:1", "::ffff:0:7f00:1"],
    ["64:ff9b::7f00:1", "64:ff9b::7f00:1"],
  ])("%s -> %s", (input, expected) => {
    expect(normaliseAddress(input)).toBe(expected);
  });

  it.each([
    "127.1",
    "0177.0.0.1",
    "0x7f.0.0.1",
    "2130706433",
    "127.0.0.01",
    "999.1.1.1",
    "::ffff:0177.0.0.1",
    "::ffff:127.000.0.1",
    "::ffff:127.1",
    "[::1]",
    "fe80::1%eth0",
    "fe80::1%25eth0",
    "1::2::3",
    " 127.0.0.1",
    "127.0.0.1 ",
    "localhost",
    "",
  ])("refuses %p", (input) => {
    expect(normaliseAddress(input)).toBeNull();
  });

  it("maps every IPv4-mapped form to the IPv4 address (property)", () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        const bytes = v4.split(".").map(Number);
        const hex = (hi = 0, lo = 0) => ((hi << 8) | lo).toString(16);
        expect(normaliseAddress(`::ffff:${v4}`)).toBe(v4);
        expect(
          normaliseAddress(`::ffff:${hex(bytes[0], bytes[1])}:${hex(bytes[2], bytes[3])}`),
        ).toBe(v4);
      }),
    );
  });

  it("is idempotent on canonical IPv6 (property)", () => {
    fc.assert(
      fc.property(fc.ipV6(), (v6) => {
        const once = normaliseAddress(v6);
        if (once === null) return; // fast-check may produce forms Node rejects; none expected
        expect(normaliseAddress(once)).toBe(once);
      }),
    );
  });
});

describe("parseAddressRange", () => {
  it.each([
    ["10.0.0.0/8", "10.0.0.0/8"],
    ["192.168.1.100", "192.168.1.100/32"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["fd00::/8", "fd00::/8"],
    ["::1", "::1/128"],
    ["::", "::/128"],
    ["::/127", "::/127"],
    ["::/0", "::/0"],
    ["::ffff:10.0.0.0/104", "10.0.0.0/8"],
    ["::ffff:0:0/96", "0.0.0.0/0"],
    ["::ffff:127.0.0.1", "127.0.0.1/32"],
    ["::7f00:1", "127.0.0.1/32"],
    ["::a00:0/104", "10.0.0.0/8"],
  ])("%s -> %s", (input, expected) => {
    expect(formatRange(parseAddressRange(input))).toBe(expected);
  });

  it.each([
    ["10.0.0.1/8", "host bits set; the network is 10.0.0.0/8"],
    ["10.0.0.0/33", "must be 0 to 32"],
    ["fd00::/129", "must be 0 to 128"],
    ["10.0.0.0/08", "must be 0 to 32"],
    ["10.0.0.0/", "must be 0 to 32"],
    ["10.0.0.0/-1", "must be 0 to 32"],
    ["10.1/8", "not an IPv4 address"],
    ["999.0.0.0/8", "not an IPv4 address"],
    ["fe80::%eth0/64", "not an IP address"],
    ["::/96", "mixes :: or ::1"],
    ["::/100", "mixes :: or ::1"],
  ])("refuses %s (%s)", (input, message) => {
    expect(() => parseAddressRange(input)).toThrow(AddressRangeError);
    expect(() => parseAddressRange(input)).toThrow(message);
  });

  it("contains every IPv4 address of the range, and only those (property)", () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), fc.ipV4(), (base, prefix, probe) => {
        const network = ipaddr.IPv4.networkAddressFromCIDR(`${base}/${prefix}`).toString();
        const range = parseAddressRange(`${network}/${prefix}`);
        const inside = parseAddress(base);
        expect(inside).not.toBeNull();
        if (inside === null) return;
        expect(rangeContains(range, inside)).toBe(true);
        const other = parseAddress(probe);
        if (other === null) return;
        const expected =
          ipaddr.IPv4.networkAddressFromCIDR(`${probe}/${prefix}`).toString() === network;
        expect(rangeContains(range, other)).toBe(expected);
        // The mapped form of an address normalises to it, so it matches exactly alike.
        const mapped = parseAddress(`::ffff:${probe}`);
        expect(mapped !== null && rangeContains(range, mapped)).toBe(expected);
      }),
    );
  });

  it("never matches across families", () => {
    const v4all = parseAddressRange("0.0.0.0/0");
    const v6all = parseAddressRange("::/0");
    const v6 = parseAddress("::1");
    const v4 = parseAddress("127.0.0.1");
    if (v6 === null || v4 === null) throw new Error("unreachable");
    expect(rangeContains(v4all, v6)).toBe(false);
    expect(rangeContains(v6all, v4)).toBe(false);
  });
});

describe("parseAddress, remembered", () => {
  it("answers a literal seen before the same way, past the bound of what it remembers", () => {
    const first = parseAddress("::ffff:127.0.0.9")?.toString();
    expect(first).toBe("127.0.0.9");
    for (let i = 0; i < 600; i++) expect(parseAddress(`10.1.${i >> 8}.${i & 255}`)).not.toBeNull();
    expect(parseAddress("::ffff:127.0.0.9")?.toString()).toBe(first);
    expect(parseAddress("10.1.2.88")?.toString()).toBe("10.1.2.88");
  });

  it("refuses what is not a literal each time it is asked", () => {
    expect(parseAddress("127.1")).toBeNull();
    expect(parseAddress("127.1")).toBeNull();
    expect(parseAddress(`${"a:".repeat(5000)}1`)).toBeNull();
  });
});
