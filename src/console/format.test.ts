import { describe, expect, test } from "bun:test";
import {
  fieldValue,
  formatElapsed,
  HexInputError,
  hexDump,
  parseHex,
  showText,
  textBytes,
  toBase64,
} from "./format.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

describe("parseHex", () => {
  test.each([
    ["de ad be ef", [0xde, 0xad, 0xbe, 0xef]],
    ["DEADBEEF", [0xde, 0xad, 0xbe, 0xef]],
    ["0x01,0x02", [1, 2]],
    ["0a:0b-0c;0d\n0e", [10, 11, 12, 13, 14]],
  ])("%j", (text, expected) => {
    expect(Array.from(parseHex(text))).toEqual(expected);
  });

  test.each([
    ["", "no hex digits"],
    ["abc", "odd number"],
    ["zz", '"z" is not a hex digit'],
  ])("%j is refused: %s", (text, message) => {
    expect(() => parseHex(text)).toThrow(HexInputError);
    expect(() => parseHex(text)).toThrow(message);
  });
});

describe("showText", () => {
  test("control characters become escapes, a newline also breaks the line", () => {
    expect(showText(new TextEncoder().encode("a\r\nb\t\x1b\0"))).toBe("a\\r\\n\nb\\t\\x1b\\0");
  });
  test("UTF-8 stays text", () => {
    expect(showText(new TextEncoder().encode("héllo ✓"))).toBe("héllo ✓");
  });
  test("bytes that are not UTF-8 show as \\xNN", () => {
    expect(showText(bytes(0xff, 0xfe, 0x41, 0x0a))).toBe("\\xff\\xfeA\\n\n");
  });
});

test("hexDump shows offset, hex in two groups of eight, and ASCII", () => {
  const dump = hexDump(new TextEncoder().encode("hello world, this is 20+"));
  expect(dump.split("\n")).toEqual([
    "00000000  68 65 6c 6c 6f 20 77 6f  72 6c 64 2c 20 74 68 69  |hello world, thi|",
    "00000010  73 20 69 73 20 32 30 2b                           |s is 20+|",
  ]);
});

test.each([
  ["none", "hi"],
  ["lf", "hi\n"],
  ["crlf", "hi\r\n"],
  ["cr", "hi\r"],
] as const)("line ending %s", (ending, expected) => {
  expect(new TextDecoder().decode(textBytes("hi", ending))).toBe(expected);
});

test.each([
  ["6379", 6379],
  [" 80 ", 80],
  ["0", 0],
  ["127.0.0.1", "127.0.0.1"],
  ["08", "08"],
  ["db.internal", "db.internal"],
])("field value %j → %j", (text, expected) => {
  expect(fieldValue(text)).toBe(expected);
});

test("base64 of large payloads matches Buffer's", () => {
  const data = new Uint8Array(100_000).map((_, index) => (index * 7) & 0xff);
  expect(toBase64(data)).toBe(Buffer.from(data).toString("base64"));
});

test("elapsed time reads as minutes:seconds, with hours when needed", () => {
  expect(formatElapsed(65_000)).toBe("01:05");
  expect(formatElapsed(3_725_000)).toBe("1:02:05");
});
