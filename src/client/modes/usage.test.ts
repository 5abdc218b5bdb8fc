import { describe, expect, test } from "bun:test";
import { cleanUsage, wantsColour } from "./usage.ts";

const citty = [
  "\u001b[90mPipe stdin to the target (socket2web connect v0.1.0)\u001b[39m",
  "",
  "  \u001b[36m--server=<url>\u001b[39m    Socket2Web server URL      ",
  "    \u001b[36m--token=<t>\u001b[39m    Credential                 ",
  "",
  "",
].join("\n");

describe("client --help", () => {
  test("plain: no colour, no trailing spaces, required flags marked, examples last", () => {
    const text = cleanUsage(citty, "connect", false);
    expect(text).not.toContain("\u001b[");
    expect(text.split("\n").every((line) => line === line.trimEnd())).toBe(true);
    expect(text).toContain("--server=<url>    Socket2Web server URL (required)\n");
    expect(text).toContain("--token=<t>    Credential\n");
    expect(text).toMatch(/\nEXAMPLES\n\n {2}echo PING \| socket2web connect .*\n$/s);
  });

  test("keeps colour for a terminal", () => {
    expect(cleanUsage(citty, "connect", true)).toContain("\u001b[36m--server");
  });

  test.each([
    [{ isTTY: true }, {}, true],
    [{ isTTY: true }, { NO_COLOR: "1" }, false],
    [{ isTTY: true }, { TERM: "dumb" }, false],
    [{}, {}, false],
  ])("colour for %j with %j: %s", (stream, env, expected) => {
    expect(wantsColour(stream, env)).toBe(expected);
  });
});
