import { describe, expect, it } from "bun:test";
import { connectArgs } from "../client/modes/connect-stdio.ts";
import { flagsOfArgs, renderHelp, wantsColour } from "./help.ts";
import { serverFlags } from "./serve.ts";

const help = {
  usage: "socket2web connect",
  description: "Pipe stdin to the target",
  flags: flagsOfArgs(connectArgs, ["server", "target"]),
  examples: ["echo PING | socket2web connect --server ws://127.0.0.1:8080 --target 127.0.0.1:6379"],
};

describe("renderHelp", () => {
  it("has no colour codes and no trailing spaces when plain", () => {
    const text = renderHelp(help, false);
    expect(text).not.toContain("\x1b[");
    for (const line of text.split("\n")) expect(line).toBe(line.trimEnd());
  });

  it("marks required flags and shows examples", () => {
    const text = renderHelp(help, false);
    expect(text).toMatch(/--server=<ws:\/\/host:port> +.*\(required\)/);
    expect(text).not.toMatch(/--protocol.*\(required\)/);
    expect(text).toContain("EXAMPLES\n\n  echo PING | socket2web connect");
  });

  it("lists every server flag with its default", () => {
    const text = renderHelp({ ...help, flags: serverFlags() }, false);
    expect(text).toMatch(/--port=<port> +.*\(Default: 433\)/);
    expect(text).toMatch(/--require-origin +Refuse/);
    expect(text).not.toContain("--auth-tokens");
  });
});

describe("wantsColour", () => {
  it("only at a terminal without NO_COLOR", () => {
    expect(wantsColour({ isTTY: false }, {})).toBe(false);
    expect(wantsColour({}, {})).toBe(false);
    expect(wantsColour({ isTTY: true }, {})).toBe(true);
    expect(wantsColour({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(wantsColour({ isTTY: true }, { TERM: "dumb" })).toBe(false);
  });
});
