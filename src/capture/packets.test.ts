import { describe, expect, test } from "bun:test";
import { ipBytes } from "./ip-bytes.ts";
import { checksum, TcpFlag, tcpPacket, udpPacket } from "./packets.ts";

describe("ipBytes", () => {
  test.each([
    ["127.0.0.1", [127, 0, 0, 1]],
    ["::1", [...new Array(15).fill(0), 1]],
    ["fe80::1:2", [0xfe, 0x80, ...new Array(10).fill(0), 0, 1, 0, 2]],
    ["::ffff:10.0.0.1", [...new Array(10).fill(0), 0xff, 0xff, 10, 0, 0, 1]],
  ])("%s", (text, bytes) => {
    expect(Array.from(ipBytes(text) ?? [])).toEqual(bytes);
  });

  test.each([
    "db.internal",
    "127.1",
    "01.2.3.4",
    "1::2::3",
    "1:2:3:4:5:6:7:8:9",
    "fe80::1%eth0",
    "",
  ])("%j is not an address", (text) => {
    expect(ipBytes(text)).toBeNull();
  });
});

describe("checksums", () => {
  test("RFC 1071's worked example", () => {
    const data = new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(checksum([data])).toBe(~0xddf2 & 0xffff);
  });

  const addresses = {
    source: ipBytes("10.0.0.1") as Uint8Array,
    destination: ipBytes("10.0.0.2") as Uint8Array,
    sourcePort: 40000,
    destinationPort: 80,
  };

  test("an IPv4 header sums to zero with its checksum in place", () => {
    const packet = tcpPacket({
      ...addresses,
      seq: 1,
      ack: 2,
      flags: TcpFlag.ack,
      window: 1,
      payload: new Uint8Array(3),
    });
    expect(checksum([packet.subarray(0, 20)])).toBe(0);
  });

  test("a TCP segment, odd length included, sums to zero over pseudo-header and segment", () => {
    const payload = new Uint8Array([1, 2, 3, 4, 5]);
    const packet = tcpPacket({
      ...addresses,
      seq: 0xfffffff0,
      ack: 7,
      flags: TcpFlag.psh | TcpFlag.ack,
      window: 65535,
      payload,
    });
    const segment = packet.subarray(20);
    const pseudo = new Uint8Array([10, 0, 0, 1, 10, 0, 0, 2, 0, 6, 0, segment.byteLength]);
    expect(checksum([pseudo, segment])).toBe(0);
  });

  test("a UDP checksum over an IPv6 pseudo-header", () => {
    const v6 = {
      ...addresses,
      source: ipBytes("::1") as Uint8Array,
      destination: ipBytes("::2") as Uint8Array,
    };
    const packet = udpPacket(v6, new Uint8Array([9, 9, 9]));
    const datagram = packet.subarray(40);
    const pseudo = new Uint8Array(40);
    pseudo.set(v6.source, 0);
    pseudo.set(v6.destination, 16);
    pseudo[35] = datagram.byteLength;
    pseudo[39] = 17;
    expect(checksum([pseudo, datagram])).toBe(0);
  });
});
