import { describe, expect, it } from "bun:test";
import { splitCommandLine } from "./run.ts";

describe("splitCommandLine", () => {
  it("skips the values of server flags before the command", () => {
    expect(
      splitCommandLine(["--allow", "127.0.0.2/32", "--port=1", "serve", "--port", "2"]),
    ).toEqual({
      name: "serve",
      before: ["--allow", "127.0.0.2/32", "--port=1"],
      after: ["--port", "2"],
    });
  });

  it("has no command when only flags are given, or after --", () => {
    expect(splitCommandLine(["--require-origin", "--port", "8080"]).name).toBeUndefined();
    expect(splitCommandLine(["--", "serve"]).name).toBeUndefined();
  });

  it("takes an empty argument after a flag as its value, so the flag's own check reports it", () => {
    expect(splitCommandLine(["--log-format", "", "--port", "8080"]).name).toBeUndefined();
  });

  it("takes a word after a switch as the command", () => {
    expect(splitCommandLine(["--metrics", "connect"]).name).toBe("connect");
  });
});
