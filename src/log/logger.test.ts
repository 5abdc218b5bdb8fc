import { expect, test } from "bun:test";
import { createLogger, fields } from "./logger.ts";
import { CLIENT_TEXT_MAX, capText, clientText, TEXT_ARG_MAX } from "./safe-text.ts";
import { logSessionSummary } from "./session-summary.ts";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    streams: {
      stdout: { write: (text: string) => out.push(text) },
      stderr: { write: (text: string) => err.push(text) },
    },
  };
}

test("json: one object per line with time, level, msg and the call's fields", () => {
  const sink = capture();
  const logger = createLogger("info", "json", sink.streams);
  logger.info(
    "session 7: closed",
    fields({
      session: 7,
      client: "127.0.0.1",
      target: "127.0.0.1:6379",
      bytes_from_client: 10,
      bytes_from_target: 20,
      duration_ms: 1500,
      close_code: 1000,
      error: undefined,
    }),
  );
  expect(sink.out).toHaveLength(1);
  const line = sink.out[0] as string;
  expect(line.endsWith("\n")).toBe(true);
  expect(line.slice(0, -1)).not.toContain("\n");
  const entry = JSON.parse(line);
  expect(entry).toEqual({
    time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    level: "info",
    msg: "session 7: closed",
    session: 7,
    client: "127.0.0.1",
    target: "127.0.0.1:6379",
    bytes_from_client: 10,
    bytes_from_target: 20,
    duration_ms: 1500,
    close_code: 1000,
  });
  expect(Math.abs(Date.parse(entry.time) - Date.now())).toBeLessThan(60_000);
});

test("json: errors go to stderr with the Error's message and stack; levels below the threshold are dropped", () => {
  const sink = capture();
  const logger = createLogger("info", "json", sink.streams);
  logger.debug("not shown");
  logger.warn("file limit low", fields({ reason: "ulimit" }));
  logger.error("internal error (still serving):", new Error("boom\nsecond line"));
  expect(sink.out).toEqual([]);
  const [warn, error] = sink.err.map((line) => JSON.parse(line));
  expect(warn).toMatchObject({ level: "warn", msg: "file limit low", reason: "ulimit" });
  expect(error).toMatchObject({
    level: "error",
    msg: "internal error (still serving)",
    error: "boom\nsecond line",
  });
  expect(error.stack).toContain("logger.test.ts");
  expect(sink.err.every((line) => line.split("\n").length === 2)).toBe(true);
});

test("json: a worker's tag and trace level are kept", () => {
  const sink = capture();
  const logger = createLogger("trace", "json", sink.streams).withTag("worker 2");
  logger.trace("session 1: client -> target 5 B");
  expect(JSON.parse(sink.out[0] as string)).toMatchObject({
    level: "trace",
    tag: "worker 2",
    msg: "session 1: client -> target 5 B",
  });
});

test("text: the message as before, fields left out (the message already says them)", () => {
  const sink = capture();
  const logger = createLogger("info", "text", sink.streams);
  logger.info("session 7: closed after 1.5 s", fields({ session: 7, close_code: 1000 }));
  const text = sink.out.join("");
  expect(text).toContain("session 7: closed after 1.5 s");
  expect(text).not.toContain("close_code");
  expect(text).not.toContain("{");
});

test("session summary: the text line as before, and the same facts as JSON fields", () => {
  const summary = {
    id: 4,
    frontEnd: "raw",
    principal: "alice",
    client: "127.0.0.1",
    protocol: "tcp",
    target: "127.0.0.1:6379",
    bytesFromClient: 2048,
    bytesFromTarget: 10,
    durationMs: 1234.5,
    closeCode: 1000,
    closedBy: "target" as const,
  };
  const text = capture();
  logSessionSummary(createLogger("info", "text", text.streams), summary);
  expect(text.out.join("")).toContain(
    "session 4 127.0.0.1 -> tcp 127.0.0.1:6379 up 2.0 KiB down 10 B 1.234s close 1000 by target frontend=raw principal=alice",
  );
  const json = capture();
  logSessionSummary(createLogger("info", "json", json.streams), { ...summary, error: "forbidden" });
  expect(JSON.parse(json.out[0] as string)).toMatchObject({
    msg: "session 4 127.0.0.1 -> tcp 127.0.0.1:6379 up 2.0 KiB down 10 B 1.234s close 1000 by target frontend=raw principal=alice",
    session: 4,
    frontend: "raw",
    principal: "alice",
    client: "127.0.0.1",
    protocol: "tcp",
    target: "127.0.0.1:6379",
    bytes_from_client: 2048,
    bytes_from_target: 10,
    duration_ms: 1235,
    close_code: 1000,
    closed_by: "target",
    error: "forbidden",
  });
  const quiet = capture();
  logSessionSummary(createLogger("warn", "json", quiet.streams), summary);
  expect(quiet.out).toEqual([]);
});

test("text: a control character in any string is escaped, so no line can be forged or recolour a terminal", () => {
  const sink = capture();
  const logger = createLogger("debug", "text", sink.streams);
  logger.debug(
    "session 1: target tcp evil\n[info] session 2 forged\r\x1b[31mred\u2028\u202etxt\x9b",
  );
  const text = sink.out.join("");
  expect(text.trimEnd().split("\n")).toHaveLength(1);
  expect(text).toContain("evil\\n[info] session 2 forged\\r\\x1b[31mred\\u2028\\u202etxt\\x9b");
  for (const raw of ["\x1b", "\x9b", "\r", "\u2028", "\u202e"]) expect(text).not.toContain(raw);
});

test("text: a huge string is capped, and a client's string is capped shorter", () => {
  const sink = capture();
  const logger = createLogger("info", "text", sink.streams);
  logger.info(`long ${"a".repeat(1_000_000)}`);
  logger.info(`host ${clientText("b".repeat(1_000_000))} end`);
  const [long, host] = sink.out;
  expect(long?.length).toBeLessThan(TEXT_ARG_MAX + 200);
  expect(long).toContain(`${"a".repeat(100)}…[${1_000_005 - TEXT_ARG_MAX} more chars]`);
  expect(host).toContain(
    `host ${"b".repeat(CLIENT_TEXT_MAX)}…[${1_000_000 - CLIENT_TEXT_MAX} more chars] end`,
  );
});

test("clientText: capped before escaping, never inside a surrogate pair", () => {
  expect(clientText("a\nb")).toBe("a\\nb");
  expect(capText(`${"x".repeat(9)}😀😀`, 10)).toBe(`${"x".repeat(9)}…[4 more chars]`);
  expect(capText("short", 10)).toBe("short");
});

test("json: messages and fields stay whole and JSON-escaped", () => {
  const sink = capture();
  const logger = createLogger("info", "json", sink.streams);
  logger.info("target a\nb", fields({ target: "a\nb" }));
  expect(sink.out).toHaveLength(1);
  expect(JSON.parse(sink.out[0] as string)).toMatchObject({ msg: "target a\nb", target: "a\nb" });
});
