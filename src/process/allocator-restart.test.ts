import { expect, test } from "bun:test";
import { blockEntries } from "./allocator-restart.ts";

const text = (entries: Uint8Array[]) => entries.map((entry) => new TextDecoder().decode(entry));

test("a /proc block splits at each NUL, empty arguments kept, each entry with its NUL", () => {
  const block = new TextEncoder().encode("bun\0--allow\0\0--port\x008080\0");
  expect(text(blockEntries(block))).toEqual(["bun\0", "--allow\0", "\0", "--port\0", "8080\0"]);
});

test("an empty block has no entries", () => {
  expect(blockEntries(new Uint8Array(0))).toEqual([]);
});
