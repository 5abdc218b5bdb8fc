import { describe, expect, it } from "bun:test";
import type { TokenSource } from "./token-source.ts";
import { type FixedTargets, upgradeKind } from "./upgrade-kind.ts";

const route = { host: "127.0.0.1", port: 5900 };
const tokens = { path: "t" } as TokenSource;
const targets = (over: Partial<FixedTargets> = {}): FixedTargets => ({
  routes: new Map([["/vnc", route]]),
  tokens,
  tickets: false,
  ...over,
});
const kindOf = (url: string, over?: Partial<FixedTargets>) =>
  upgradeKind(new URL(url, "ws://proxy"), targets(over)).kind;

describe("upgradeKind", () => {
  it.each([
    ["/", "handshake"],
    ["/anything", "handshake"],
    ["/vnc", "raw"],
    ["/vnc?token=credential", "raw"],
    ["/websockify?token=abc", "raw"],
    ["/?protocol=tcp&target_ip=1.2.3.4&target_port=1", "url"],
    ["/?protocol=tcp&token=abc", "url"],
    ["/vnc?protocol=tcp", "url"],
  ])("%p is %p", (url, kind) => {
    expect(kindOf(url) as string).toBe(kind);
  });

  it("token= without --token-file or tickets is an ordinary handshake session", () => {
    expect(kindOf("/?token=abc", { tokens: undefined })).toBe("handshake");
    expect(kindOf("/?token=abc", { tokens: undefined, tickets: true })).toBe("raw");
  });
});
