import { describe, expect, it } from "bun:test";
import {
  decodePacket,
  encodeClose,
  encodeConnect,
  encodeContinue,
  encodeData,
  encodeInfo,
  MAX_EXTENSIONS,
  MAX_INFO_BYTES,
  readExtensions,
  WispPacketError,
} from "./packet.ts";

const bytes = (...values: number[]) => Uint8Array.from(values);

describe("decodePacket", () => {
  it("reads every field little-endian", () => {
    // CONNECT, stream 0x04030201, TCP, port 0x1f90 (8080), "ab"
    expect(decodePacket(bytes(1, 1, 2, 3, 4, 1, 0x90, 0x1f, 0x61, 0x62))).toEqual({
      type: "connect",
      streamId: 0x04030201,
      streamType: 1,
      port: 8080,
      host: "ab",
    });
    expect(decodePacket(bytes(3, 7, 0, 0, 0, 0x80, 0, 0, 0))).toEqual({
      type: "continue",
      streamId: 7,
      bufferRemaining: 128,
    });
    expect(decodePacket(bytes(4, 7, 0, 0, 0, 0x44))).toEqual({
      type: "close",
      streamId: 7,
      reason: 0x44,
    });
  });

  it("keeps a DATA payload as a view, empty allowed", () => {
    const packet = decodePacket(bytes(2, 9, 0, 0, 0, 5, 6, 7));
    expect(packet).toMatchObject({ type: "data", streamId: 9 });
    expect([...(packet as { payload: Uint8Array }).payload]).toEqual([5, 6, 7]);
    expect(decodePacket(bytes(2, 9, 0, 0, 0))).toMatchObject({ type: "data", streamId: 9 });
  });

  it("round-trips what it encodes", () => {
    expect(decodePacket(encodeConnect(5, 2, 53, "dns.example"))).toEqual({
      type: "connect",
      streamId: 5,
      streamType: 2,
      port: 53,
      host: "dns.example",
    });
    expect(decodePacket(encodeContinue(0, 0xffffffff))).toMatchObject({
      bufferRemaining: 0xffffffff,
    });
    expect(decodePacket(encodeClose(0xffffffff, 2))).toMatchObject({
      streamId: 0xffffffff,
      reason: 2,
    });
    const data = decodePacket(encodeData(3, bytes(1, 2, 3)));
    expect([...(data as { payload: Uint8Array }).payload]).toEqual([1, 2, 3]);
    const info = decodePacket(
      encodeInfo(2, 0, [
        { id: 1, payload: bytes() },
        { id: 2, payload: bytes(1) },
      ]),
    );
    expect(info).toMatchObject({ type: "info", streamId: 0, major: 2, minor: 0 });
    const records = readExtensions((info as { extensionBytes: Uint8Array }).extensionBytes);
    expect(records.map((e) => e.id)).toEqual([1, 2]);
  });

  it.each([
    [bytes(), "packet of 0 bytes is shorter than the 5-byte header", undefined],
    [bytes(2, 1, 0, 0), "packet of 4 bytes is shorter than the 5-byte header", undefined],
    [bytes(1, 1, 0, 0, 0, 1, 80), "CONNECT payload must be at least 3 bytes, got 2", 1],
    [bytes(3, 1, 0, 0, 0, 1, 0, 0), "CONTINUE payload must be 4 bytes, got 3", 1],
    [bytes(4, 2, 0, 0, 0), "CLOSE payload must be 1 bytes, got 0", 2],
    [bytes(4, 2, 0, 0, 0, 1, 1), "CLOSE payload must be 1 bytes, got 2", 2],
    [bytes(5, 0, 0, 0, 0, 2), "INFO payload must be at least 2 bytes, got 1", 0],
    [
      new Uint8Array(5 + 2 + MAX_INFO_BYTES - 1).fill(5, 0, 1),
      `INFO payload of ${MAX_INFO_BYTES + 1} bytes exceeds ${MAX_INFO_BYTES}`,
      0,
    ],
    [bytes(0x07, 3, 0, 0, 0), "unknown packet type 0x07", 3],
    [bytes(0, 3, 0, 0, 0), "unknown packet type 0x00", 3],
    [bytes(1, 1, 0, 0, 0, 1, 80, 0, 0xff, 0xfe), "not valid UTF-8", 1],
  ] as const)("refuses %p: %s", (packet, message, streamId) => {
    let error: unknown;
    try {
      decodePacket(packet);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(WispPacketError);
    expect((error as WispPacketError).message).toContain(message);
    expect((error as WispPacketError).streamId).toBe(streamId);
  });
});

describe("INFO extension records", () => {
  /** The records part of an INFO: `count` empty records of id 1. */
  const emptyRecords = (count: number) => {
    const records = new Uint8Array(count * 5);
    for (let i = 0; i < count; i++) records[i * 5] = 1;
    return records;
  };

  it("are not read when the packet is decoded", () => {
    // Records cut short decode as an INFO: nothing reads them unless the server needs them.
    const info = decodePacket(bytes(5, 0, 0, 0, 0, 2, 0, 1, 9, 0, 0, 0, 1));
    expect(info).toMatchObject({ type: "info", extensionBytes: bytes(1, 9, 0, 0, 0, 1) });
  });

  it.each([
    [bytes(1, 0), "cut short"],
    [bytes(1, 9, 0, 0, 0, 1), "claims 9 bytes but only 1 follow"],
    [emptyRecords(MAX_EXTENSIONS + 1), `more than ${MAX_EXTENSIONS} extension records`],
  ] as const)("refuses %p: %s", (records, message) => {
    expect(() => readExtensions(records)).toThrow(message);
  });

  it("stops after MAX_EXTENSIONS records, however many follow", () => {
    // An INFO as large as a WebSocket message may be, all empty records: refused at once.
    const records = emptyRecords(3_300_000);
    const started = performance.now();
    expect(() => readExtensions(records)).toThrow(WispPacketError);
    expect(performance.now() - started).toBeLessThan(50);
    expect(readExtensions(emptyRecords(MAX_EXTENSIONS))).toHaveLength(MAX_EXTENSIONS);
  });
});
