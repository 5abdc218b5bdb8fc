import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { SessionEnd } from "../session/end.ts";
import { SessionCapture } from "./session-capture.ts";

/** Walks a pcapng file's blocks: [type, total length] each, checking each block's two lengths agree. */
function blocks(file: Uint8Array): [number, number][] {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const found: [number, number][] = [];
  for (let offset = 0; offset < file.byteLength; ) {
    const type = view.getUint32(offset, true);
    const length = view.getUint32(offset + 4, true);
    if (length % 4 !== 0 || length < 12) throw new Error(`bad block length ${length} at ${offset}`);
    if (view.getUint32(offset + length - 4, true) !== length)
      throw new Error(`trailer mismatch at ${offset}`);
    found.push([type, length]);
    offset += length;
  }
  return found;
}

function run(
  events: readonly { fromClient: boolean; size: number }[],
  maxBytes: number | undefined,
  how: SessionEnd,
  transport: "tcp" | "udp" = "tcp",
) {
  const capture = new SessionCapture({
    client: { address: "10.0.0.1", port: 40000 },
    target: { address: "10.0.0.2", port: 502 },
    transport,
    ...(maxBytes === undefined ? {} : { maxBytes }),
  });
  const parts = [capture.start(1)];
  for (const [index, event] of events.entries()) {
    const payload = new Uint8Array(event.size).fill(index & 0xff);
    parts.push(
      event.fromClient
        ? capture.fromClient(payload, 2 + index)
        : capture.fromTarget(payload, 2 + index),
    );
  }
  parts.push(capture.end({ code: 1000, reason: "x".repeat(123), how }, 10_000));
  const file = Buffer.concat(parts);
  return { capture, file };
}

describe("SessionCapture", () => {
  test("any sequence of chunks stays within maxBytes and is well-formed pcapng; the cut is marked", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ fromClient: fc.boolean(), size: fc.integer({ min: 0, max: 150_000 }) }),
          {
            maxLength: 12,
          },
        ),
        fc.integer({ min: 4096, max: 400_000 }),
        fc.constantFrom<SessionEnd>("client-end", "target-end", "client-reset", "target-reset"),
        fc.constantFrom<"tcp" | "udp">("tcp", "udp"),
        (events, maxBytes, how, transport) => {
          const clamped =
            transport === "udp"
              ? events.map((e) => ({ ...e, size: Math.min(e.size, 65_507) }))
              : events;
          const { capture, file } = run(clamped, maxBytes, how, transport);
          expect(file.byteLength).toBeLessThanOrEqual(maxBytes);
          expect(capture.bytesWritten).toBe(file.byteLength);
          const found = blocks(file);
          expect(found[0]?.[0]).toBe(0x0a0d0d0a);
          expect(found[1]?.[0]).toBe(1);
          const total = clamped.reduce((sum, e) => sum + e.size, 0);
          const kept = capture.captured.client + capture.captured.target;
          expect(capture.seen.client + capture.seen.target).toBe(total);
          expect(capture.truncated).toBe(kept < total);
          expect(file.includes(Buffer.from("capture truncated"))).toBe(capture.truncated);
          expect(file.includes(Buffer.from("WebSocket closed with code 1000"))).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  test("without a limit every byte is kept", () => {
    const { capture } = run(
      [
        { fromClient: true, size: 200_000 },
        { fromClient: false, size: 3 },
      ],
      undefined,
      "client-end",
    );
    expect(capture.captured).toEqual({ client: 200_000, target: 3 });
    expect(capture.truncated).toBe(false);
  });

  test("calls before start and after end add nothing", () => {
    const capture = new SessionCapture({
      client: { address: "::1", port: 1 },
      target: { address: "db.internal", port: 2 },
      transport: "tcp",
    });
    expect(capture.fromClient(new Uint8Array(5), 0).byteLength).toBe(0);
    capture.start(0);
    capture.end({ how: "client-end" }, 1);
    expect(capture.fromTarget(new Uint8Array(5), 2).byteLength).toBe(0);
    expect(capture.end({ how: "client-end" }, 3).byteLength).toBe(0);
  });
});
