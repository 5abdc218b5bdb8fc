import { expect, test } from "bun:test";
import { blockEntries, missingSettings, RUNTIME_SETTINGS } from "./runtime-restart.ts";

const text = (entries: Uint8Array[]) => entries.map((entry) => new TextDecoder().decode(entry));

test("a /proc block splits at each NUL, empty arguments kept, each entry with its NUL", () => {
  const block = new TextEncoder().encode("bun\0--allow\0\0--port\x008080\0");
  expect(text(blockEntries(block))).toEqual(["bun\0", "--allow\0", "\0", "--port\0", "8080\0"]);
});

test("an empty block has no entries", () => {
  expect(blockEntries(new Uint8Array(0))).toEqual([]);
});

test("every setting the environment lacks is added, each as NAME=value with its NUL", () => {
  expect(missingSettings({})).toEqual(["MIMALLOC_PURGE_DELAY=1000\0", "BUN_JSC_useFTLJIT=false\0"]);
});

test("a setting the environment names is the operator's, even empty: only the others are added", () => {
  expect(missingSettings({ MIMALLOC_PURGE_DELAY: "100" })).toEqual(["BUN_JSC_useFTLJIT=false\0"]);
  expect(missingSettings({ BUN_JSC_useFTLJIT: "" })).toEqual(["MIMALLOC_PURGE_DELAY=1000\0"]);
  expect(missingSettings({ ...RUNTIME_SETTINGS, BUN_JSC_useFTLJIT: "true" })).toEqual([]);
});
