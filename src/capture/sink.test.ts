import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseRule } from "../policy/rule.ts";
import {
  type CapturedSession,
  captureFileName,
  createCapture,
  MAX_QUEUED_BYTES,
  matchesFilter,
} from "./sink.ts";

const root = mkdtempSync(join(tmpdir(), "socket2web-sink-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `d${++dirs}`);

function logger() {
  const warnings: string[] = [];
  return { warnings, warn: (message: string) => warnings.push(message), debug: () => undefined };
}

const session = (overrides: Partial<CapturedSession> = {}): CapturedSession => ({
  sessionId: 7,
  protocol: "tcp",
  transport: "tcp",
  client: { address: "127.0.0.1", port: 50000 },
  target: { address: "127.0.0.1", port: 6379 },
  ...overrides,
});

describe("capture sink", () => {
  test("writes one pcapng file per session, mode 0600, in a directory it creates (0700)", async () => {
    const dir = freshDir();
    const log = logger();
    const capture = createCapture({ dir, maxBytes: 1 << 20, filter: [] }, log);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const tap = capture.open(session());
    tap?.clientBytes(new TextEncoder().encode("PING\r\n"));
    tap?.targetBytes(new TextEncoder().encode("+PONG\r\n"));
    tap?.close({ code: 1000, reason: "", how: "client-end" });
    await capture.settled();
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    const path = join(dir, files[0] as string);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const bytes = readFileSync(path);
    expect(bytes.readUInt32LE(0)).toBe(0x0a0d0d0a);
    expect(bytes.includes(Buffer.from("+PONG\r\n"))).toBe(true);
    expect(bytes.includes(Buffer.from("WebSocket closed with code 1000"))).toBe(true);
    expect(log.warnings).toEqual([]);
  });

  test("a write error is logged once and the session's tap keeps accepting without throwing", async () => {
    const dir = freshDir();
    const log = logger();
    const capture = createCapture({ dir, maxBytes: 1 << 20, filter: [] }, log);
    rmSync(dir, { recursive: true });
    const tap = capture.open(session());
    for (let i = 0; i < 100; i++) tap?.clientBytes(new Uint8Array(1000));
    tap?.close({ code: 1000, how: "client-end" });
    await capture.settled();
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toContain("capture of session 7 stopped: cannot write");
    expect(() => tap?.clientBytes(new Uint8Array(1))).not.toThrow();
  });

  test("bytes past the file limit are counted, not queued, and the file says it is truncated", async () => {
    const dir = freshDir();
    const capture = createCapture({ dir, maxBytes: 8192, filter: [] }, logger());
    const tap = capture.open(session());
    for (let i = 0; i < 1000; i++) tap?.targetBytes(new Uint8Array(1000).fill(65));
    tap?.close({ code: 1000, how: "target-end" });
    await capture.settled();
    const path = join(dir, readdirSync(dir)[0] as string);
    const bytes = readFileSync(path);
    expect(bytes.byteLength).toBeLessThanOrEqual(8192);
    expect(bytes.includes(Buffer.from("capture truncated"))).toBe(true);
    expect(bytes.includes(Buffer.from("target sent 1000000 bytes"))).toBe(true);
  });

  test("past 8 MiB waiting for the disk, capture of that session stops with one warning", async () => {
    const dir = freshDir();
    const log = logger();
    const capture = createCapture({ dir, maxBytes: 1 << 30, filter: [] }, log);
    const tap = capture.open(session());
    // No await in between: the background writer cannot take anything yet.
    for (let i = 0; i < 9; i++) tap?.targetBytes(new Uint8Array(MAX_QUEUED_BYTES / 8));
    tap?.close({ code: 1000, how: "target-end" });
    await capture.settled();
    expect(log.warnings).toEqual([
      `capture of session 7 stopped: the disk is not keeping up (${MAX_QUEUED_BYTES} bytes waiting)`,
    ]);
  });

  test("only sessions whose target matches the filter are captured", () => {
    const capture = createCapture(
      { dir: freshDir(), maxBytes: 1 << 20, filter: [parseRule("127.0.0.1:6379")] },
      logger(),
    );
    expect(capture.open(session({ target: { address: "127.0.0.1", port: 80 } }))).toBeUndefined();
    const tap = capture.open(session());
    expect(tap).toBeDefined();
    tap?.close({ how: "client-end" });
  });

  test.each([
    ["10.0.0.0/8", "10.1.2.3", 22, undefined, true],
    ["10.0.0.0/8:5432", "10.1.2.3", 22, undefined, false],
    ["db.internal:5432", "10.1.2.3", 5432, "db.internal", true],
    ["*.plc.local", "192.168.1.5", 502, "a.plc.local", true],
    ["*.plc.local", "192.168.1.5", 502, undefined, false],
    ["[::1]:80", "::1", 80, undefined, true],
  ])("filter %s against %s port %d, host %p: %p", (rule, address, port, host, expected) => {
    const target = { address, port };
    expect(matchesFilter([parseRule(rule)], session({ target, targetHost: host }))).toBe(expected);
  });

  test("file names say when, which process and session, and where to, with no unsafe characters", () => {
    const name = captureFileName(
      session({ target: { address: "::1", port: 80 }, sessionId: 12 }),
      new Date(Date.UTC(2026, 11, 1, 8, 9, 10, 123)),
    );
    expect(name).toBe(`20261201T080910Z-${process.pid}-12-tcp-_1-80.pcapng`);
  });
});
