import { describe, expect, test } from "bun:test";
import {
  formatIp,
  ipBytes,
  PP2_TYPE_AUTHORITY,
  PP2_TYPE_UNIQUE_ID,
  proxyHeaderV1,
  proxyHeaderV2,
  V2_SIGNATURE,
} from "./proxy-protocol.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("version 1", () => {
  test("TCP4: source, destination, ports, CRLF", () => {
    const line = proxyHeaderV1({
      source: { address: "192.168.0.1", port: 56324 },
      destination: { address: "192.168.0.11", port: 443 },
    });
    expect(text(line)).toBe("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
  });

  test("TCP6 in compressed hex groups", () => {
    const line = proxyHeaderV1({
      source: { address: "::1", port: 1 },
      destination: { address: "2001:db8:0:0:1:0:0:1", port: 22 },
    });
    expect(text(line)).toBe("PROXY TCP6 ::1 2001:db8::1:0:0:1 1 22\r\n");
  });

  test("an IPv4-mapped client is its IPv4 address", () => {
    const line = proxyHeaderV1({
      source: { address: "::ffff:127.0.0.1", port: 5 },
      destination: { address: "127.0.0.2", port: 6 },
    });
    expect(text(line)).toBe("PROXY TCP4 127.0.0.1 127.0.0.2 5 6\r\n");
  });

  test("an IPv6 client and an IPv4 target: both IPv6, the IPv4 one mapped", () => {
    const line = proxyHeaderV1({
      source: { address: "::1", port: 40000 },
      destination: { address: "127.0.0.1", port: 80 },
    });
    expect(text(line)).toBe("PROXY TCP6 ::1 ::ffff:7f00:1 40000 80\r\n");
  });

  test("a client that is not known: UNKNOWN", () => {
    const line = proxyHeaderV1({
      source: { address: "unknown", port: 0 },
      destination: { address: "127.0.0.1", port: 80 },
    });
    expect(text(line)).toBe("PROXY UNKNOWN\r\n");
  });

  test("a target without an address (a Unix socket): the unspecified address, port 0", () => {
    const line = proxyHeaderV1({
      source: { address: "10.0.0.7", port: 1234 },
      destination: undefined,
    });
    expect(text(line)).toBe("PROXY TCP4 10.0.0.7 0.0.0.0 1234 0\r\n");
  });

  test("the longest line stays within the 107 characters a receiver must take", () => {
    const full = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    const line = proxyHeaderV1({
      source: { address: full, port: 65535 },
      destination: { address: full, port: 65535 },
    });
    expect(line.length).toBe(104);
  });
});

describe("version 2", () => {
  test("TCP over IPv4: signature, 0x21, 0x11, length 12, addresses, ports", () => {
    const header = proxyHeaderV2({
      source: { address: "192.168.0.1", port: 56324 },
      destination: { address: "192.168.0.11", port: 443 },
    });
    expect(hex(header.subarray(0, 12))).toBe("0d0a0d0a000d0a515549540a");
    expect(hex(header)).toBe(
      [hex(V2_SIGNATURE), "2111000c", "c0a80001", "c0a8000b", "dc04", "01bb"].join(""),
    );
  });

  test("TCP over IPv6: 0x21, length 36", () => {
    const header = proxyHeaderV2({
      source: { address: "::1", port: 1 },
      destination: { address: "fe80::2%eth0", port: 2 },
    });
    expect(hex(header.subarray(12, 16))).toBe("21210024");
    expect(header.length).toBe(16 + 36);
    expect(hex(header.subarray(16, 32))).toBe("00000000000000000000000000000001");
    expect(hex(header.subarray(32, 48))).toBe("fe800000000000000000000000000002");
    expect(hex(header.subarray(48, 52))).toBe("00010002");
  });

  test("an IPv6 client and an IPv4 target: TCP over IPv6, the target IPv4-mapped", () => {
    const header = proxyHeaderV2({
      source: { address: "::1", port: 40000 },
      destination: { address: "127.0.0.1", port: 80 },
    });
    expect(hex(header.subarray(12, 16))).toBe("21210024");
    expect(hex(header.subarray(32, 48))).toBe("00000000000000000000ffff7f000001");
  });

  test("TLVs: authority (0x02) then unique id (0x05), counted in the length", () => {
    const header = proxyHeaderV2({
      source: { address: "127.0.0.1", port: 1 },
      destination: { address: "127.0.0.2", port: 2 },
      authority: "db.example",
      uniqueId: "42",
    });
    const tlvs = header.subarray(16 + 12);
    expect(hex(tlvs)).toBe(
      `02000a${hex(new TextEncoder().encode("db.example"))}` +
        `050002${hex(new TextEncoder().encode("42"))}`,
    );
    expect(PP2_TYPE_AUTHORITY).toBe(2);
    expect(PP2_TYPE_UNIQUE_ID).toBe(5);
    expect(new DataView(header.buffer).getUint16(14)).toBe(12 + 13 + 5);
  });

  test("a client that is not known: AF_UNSPEC with no address, the TLVs still there", () => {
    const header = proxyHeaderV2({ source: undefined, destination: undefined, uniqueId: "7" });
    expect(hex(header.subarray(12))).toBe("21000004" + "05000137");
  });

  test("a unique id longer than the specification's 128 bytes is refused", () => {
    expect(() =>
      proxyHeaderV2({ source: undefined, destination: undefined, uniqueId: "x".repeat(129) }),
    ).toThrow(/128 bytes/);
  });
});

describe("addresses", () => {
  test.each([
    ["1.2.3.4", "01020304"],
    ["::", "00000000000000000000000000000000"],
    ["1::", "00010000000000000000000000000000"],
    ["::ffff:10.0.0.1", "0a000001"],
    ["64:ff9b::1.2.3.4", "0064ff9b000000000000000001020304"],
    ["2001:db8:1:2:3:4:5:6", "20010db8000100020003000400050006"],
  ])("%s", (address, bytes) => {
    expect(hex(ipBytes(address) ?? new Uint8Array())).toBe(bytes);
  });

  test("not an address", () => expect(ipBytes("localhost")).toBeUndefined());

  test.each([
    ["0:0:0:0:0:0:0:1", "::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"],
    ["1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0"],
  ])("formats %s as %s", (address, formatted) => {
    expect(formatIp(ipBytes(address) ?? new Uint8Array())).toBe(formatted);
  });
});
