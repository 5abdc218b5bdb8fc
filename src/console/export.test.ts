import { expect, test } from "bun:test";
import { exportJsonLines, exportPcapng, type RecordedSession, sessionEnd } from "./export.ts";

const encode = (text: string) => new TextEncoder().encode(text);

const session = (overrides: Partial<RecordedSession> = {}): RecordedSession => ({
  url: "ws://127.0.0.1:8080/",
  request: { protocol: "tcp", fields: { target_ip: "127.0.0.1", target_port: "6379" } },
  startedAt: Date.UTC(2026, 11, 1),
  incomplete: false,
  status: { status: "connected", protocol: "tcp" },
  failure: undefined,
  closeInfo: { code: 1000, reason: "target closed", byPage: false },
  entries: [
    { id: 1, time: Date.UTC(2026, 11, 1), kind: "status", size: 0, text: "connected" },
    { id: 2, time: Date.UTC(2026, 11, 1) + 5, kind: "sent", size: 6, bytes: encode("PING\r\n") },
    {
      id: 3,
      time: Date.UTC(2026, 11, 1) + 9,
      kind: "received",
      size: 7,
      bytes: encode("+PONG\r\n"),
    },
  ],
  ...overrides,
});

test.each([
  [undefined, "client-end"],
  [{ code: 1000, reason: "", byPage: true }, "client-end"],
  [{ code: 1000, reason: "target closed", byPage: false }, "target-end"],
  [{ code: 1011, reason: "target failed", byPage: false }, "target-reset"],
  [{ code: 4001, reason: "idle timeout", byPage: false }, "client-end"],
] as const)("close %j ends the stream as %s", (close, expected) => {
  expect(sessionEnd(close)).toBe(expected);
});

test("the pcapng export holds the payloads and the close as a comment", () => {
  const file = Buffer.from(exportPcapng(session()));
  expect(file.readUInt32LE(0)).toBe(0x0a0d0d0a);
  expect(file.includes(Buffer.from("PING\r\n"))).toBe(true);
  expect(file.includes(Buffer.from("+PONG\r\n"))).toBe(true);
  expect(file.includes(Buffer.from('WebSocket closed with code 1000 reason "target closed"'))).toBe(
    true,
  );
});

test("JSON lines: a header line, then one line per entry with base64 payloads", () => {
  const lines = exportJsonLines(session())
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line));
  expect(lines[0]).toMatchObject({
    type: "session",
    protocol: "tcp",
    fields: { target_port: "6379" },
  });
  expect(lines[2]).toEqual({
    time: "2026-12-01T00:00:00.005Z",
    type: "sent",
    size: 6,
    data: Buffer.from("PING\r\n").toString("base64"),
  });
  expect(lines).toHaveLength(4);
});
