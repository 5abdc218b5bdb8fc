import { afterAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSmallFile } from "./read-file.ts";
import { readConfigFile } from "./sources.ts";

const dir = mkdtempSync(join(tmpdir(), "socket2web-read-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("readSmallFile", () => {
  it("reads a regular file", () => {
    expect(readSmallFile(file("a.txt", "hello"), "--config")).toBe("hello");
  });

  it("refuses a device at once instead of reading it forever", () => {
    const started = performance.now();
    expect(() => readSmallFile("/dev/zero", "--config")).toThrow(
      "--config file /dev/zero is not a regular file",
    );
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("refuses a directory and a missing file, naming the setting", () => {
    expect(() => readSmallFile(dir, "--config")).toThrow("is not a regular file");
    expect(() => readSmallFile(join(dir, "missing"), "--config")).toThrow(
      /cannot read --config file .*missing: ENOENT/,
    );
  });

  it("refuses a file over the limit", () => {
    const path = file("big.txt", "x".repeat(101));
    expect(readSmallFile(path, "--config", 101)).toHaveLength(101);
    expect(() => readSmallFile(path, "--config", 100)).toThrow(
      "is too large (101 bytes; at most 100)",
    );
  });
});

describe("readConfigFile", () => {
  it.each(["constructor", "__proto__", "toString", "hasOwnProperty"])(
    "refuses %s as an unknown key",
    (key) => {
      const path = file(`${key}.toml`, `${key} = 1\n`);
      expect(() => readConfigFile(path, "--config")).toThrow(`unknown key "${key}"`);
    },
  );

  it.each([
    ["allow = []", "allow"],
    ["trust-proxy = []", "trust-proxy"],
    ['ticket-secret = ""', "ticket-secret"],
    ['auth-token-file = ""', "auth-token-file"],
  ])("refuses a security key given empty: %s", (text, key) => {
    const path = file(`${key}.toml`, `${text}\n`);
    expect(() => readConfigFile(path, "--config")).toThrow(`${path}: ${key} is given but empty`);
  });
});
