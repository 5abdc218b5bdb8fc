import { describe, expect, it } from "bun:test";
import { createConsola } from "consola";
import { guarded } from "./guard.ts";

function capturingLogger() {
  const lines: string[] = [];
  const logger = createConsola({
    reporters: [{ log: (entry) => lines.push(entry.args.map(String).join(" ")) }],
  });
  return { logger, lines };
}

describe("guarded websocket handlers", () => {
  it("turn a throw into a 1011 close of that session and a log line", () => {
    const { logger, lines } = capturingLogger();
    const closes: [number, string][] = [];
    const ws = {
      data: { id: 7 },
      close: (code: number, reason: string) => closes.push([code, reason]),
    };
    const handler = guarded(logger, (_ws: typeof ws, _message: string) => {
      throw new Error("bug");
    });
    expect(() => handler(ws, "hello")).not.toThrow();
    expect(closes).toEqual([[1011, "internal error"]]);
    expect(lines.join("\n")).toContain("session 7: internal error");
  });

  it("pass arguments through and stay silent when nothing throws", () => {
    const { logger, lines } = capturingLogger();
    const seen: string[] = [];
    const ws = { data: { id: 1 }, close: () => seen.push("closed") };
    guarded(logger, (_ws: typeof ws, message: string) => seen.push(message))(ws, "hi");
    expect(seen).toEqual(["hi"]);
    expect(lines).toEqual([]);
  });

  it("survive a close that throws because the socket is already gone", () => {
    const { logger } = capturingLogger();
    const ws = {
      data: { id: 2 },
      close: () => {
        throw new Error("closed");
      },
    };
    const handler = guarded(logger, () => {
      throw new Error("bug");
    });
    expect(() => handler(ws)).not.toThrow();
  });
});
