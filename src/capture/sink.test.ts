import { afterAll, describe, expect, test } from "bun:test";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseRule } from "../policy/rule.ts";
import { resolveCaptureTotal } from "./budget.ts";
import {
  type CapturedSession,
  type CaptureSettings,
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
  const infos: string[] = [];
  return {
    warnings,
    infos,
    info: (message: string) => infos.push(message),
    warn: (message: string) => warnings.push(message),
    debug: () => undefined,
  };
}

const settings = (dir: string, more: Partial<CaptureSettings> = {}): CaptureSettings => ({
  dir,
  maxBytes: 1 << 20,
  filter: [],
  maxTotal: "100%",
  workers: 1,
  ...more,
});

function observer() {
  const seen = { written: 0, skipped: 0 };
  return {
    seen,
    captureWritten: (bytes: number) => {
      seen.written += bytes;
    },
    captureSkipped: () => {
      seen.skipped++;
    },
  };
}

/** The sizes of the files in `dir`, and their contents. */
const files = (dir: string) => readdirSync(dir).map((name) => readFileSync(join(dir, name)));
const totalSize = (dir: string) => files(dir).reduce((sum, bytes) => sum + bytes.byteLength, 0);

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
    const capture = createCapture(settings(dir), log);
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
    const capture = createCapture(settings(dir), log);
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
    const capture = createCapture(
      { dir, maxBytes: 8192, filter: [], maxTotal: "100%", workers: 1 },
      logger(),
    );
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
    const capture = createCapture(
      { dir, maxBytes: 1 << 30, filter: [], maxTotal: "100%", workers: 1 },
      log,
    );
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
      settings(freshDir(), { filter: [parseRule("127.0.0.1:6379")] }),
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

describe("--capture-max-total", () => {
  const chunk = new Uint8Array(16 * 1024).fill(0x61);

  test("sessions one after another: the files together stay within it; the next are not captured, counted, warned once", async () => {
    const dir = freshDir();
    const log = logger();
    const seen = observer();
    const limit = 100_000;
    const capture = createCapture(settings(dir, { maxTotal: limit }), log, seen);
    let captured = 0;
    for (let id = 1; id <= 10; id++) {
      const tap = capture.open(session({ sessionId: id }));
      if (tap) captured++;
      for (let i = 0; i < 2; i++) {
        tap?.clientBytes(chunk);
        tap?.targetBytes(chunk);
      }
      tap?.close({ code: 1000, reason: "", how: "client-end" });
      await capture.settled();
    }
    expect(totalSize(dir)).toBeLessThanOrEqual(limit);
    expect(seen.seen.written).toBe(totalSize(dir));
    expect(captured).toBe(readdirSync(dir).length);
    expect(seen.seen.skipped).toBe(10 - captured);
    expect(seen.seen.skipped).toBeGreaterThan(0);
    // The file the limit fell in says so, and still ends with the session's close.
    const cut = files(dir).filter((bytes) => bytes.includes("--capture-max-total"));
    expect(cut.length).toBeGreaterThan(0);
    for (const bytes of files(dir)) {
      expect(bytes.readUInt32LE(0)).toBe(0x0a0d0d0a);
      expect(bytes.includes("WebSocket closed with code 1000")).toBe(true);
    }
    expect(log.warnings).toEqual([
      `capture: --capture-max-total reached (${limit} bytes for this process): captures under way are cut, new sessions are not captured; the files are kept (restart to capture again)`,
    ]);
  });

  test("sessions at once, each faster than the limit: still within it, every file closed", async () => {
    const dir = freshDir();
    const limit = 256 * 1024;
    const seen = observer();
    const capture = createCapture(settings(dir, { maxTotal: limit }), logger(), seen);
    const taps = Array.from({ length: 6 }, (_, i) => capture.open(session({ sessionId: i + 1 })));
    for (let round = 0; round < 8; round++) {
      for (const tap of taps) {
        tap?.clientBytes(chunk);
        tap?.targetBytes(chunk);
      }
      await Bun.sleep(0);
    }
    for (const tap of taps) tap?.close({ code: 1000, reason: "", how: "target-end" });
    await capture.settled();
    expect(taps.every((tap) => tap !== undefined)).toBe(true);
    expect(totalSize(dir)).toBeLessThanOrEqual(limit);
    expect(totalSize(dir)).toBeGreaterThan(limit / 2);
    expect(seen.seen.written).toBe(totalSize(dir));
    for (const bytes of files(dir)) expect(bytes.includes("WebSocket closed")).toBe(true);
  });

  test("capture files already in the directory count against it; other files do not", async () => {
    const dir = freshDir();
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, "old.pcapng"), new Uint8Array(30_000));
    writeFileSync(join(dir, "notes.txt"), new Uint8Array(50_000));
    const log = logger();
    const seen = observer();
    const capture = createCapture(settings(dir, { maxTotal: 32_000 }), log, seen);
    expect(log.infos[0]).toContain("at most 32000 bytes in all");
    expect(log.infos[0]).toContain("30000 bytes there already, 2000 bytes left");
    expect(capture.open(session())).toBeUndefined();
    expect(seen.seen.skipped).toBe(1);
    await capture.settled();
  });

  test("a percentage is of the free space plus the capture files there; workers share it", () => {
    const dir = freshDir();
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, "old.pcapng"), new Uint8Array(10_000));
    const stats = statfsSync(dir);
    const free = stats.bavail * stats.bsize;
    const resolved = resolveCaptureTotal("10%", dir, 2);
    expect(resolved.existing).toBe(10_000);
    // The free space moves as other processes write: within a few MiB.
    expect(Math.abs(resolved.total - (free + 10_000) * 0.1)).toBeLessThan(4 * 1024 * 1024);
    expect(resolved.limit).toBe(Math.floor((resolved.total - 10_000) / 2));
    expect(resolveCaptureTotal(1_000_000, dir, 4)).toEqual({
      total: 1_000_000,
      existing: 10_000,
      limit: 247_500,
    });
  });
});
