import { describe, expect, it } from "bun:test";
import { matchWispPath, wispSubprotocol } from "./endpoint.ts";

describe("matchWispPath", () => {
  it.each([
    ["/wisp/", { kind: "wisp", credential: undefined }],
    ["/wisp/tok3n/", { kind: "wisp", credential: "tok3n" }],
    ["/wisp/a%2Fb/", { kind: "wisp", credential: "a/b" }],
    [
      "/wisp/127.0.0.1:80",
      { kind: "wsproxy", credential: undefined, target: { host: "127.0.0.1", port: 80 } },
    ],
    [
      "/wisp/tok3n/localhost:6379",
      { kind: "wsproxy", credential: "tok3n", target: { host: "localhost", port: 6379 } },
    ],
  ] as const)("%s", (path, expected) => {
    expect(matchWispPath("/wisp/", path)).toEqual(expected);
  });

  it("leaves other paths alone", () => {
    expect(matchWispPath("/wisp/", "/")).toBeUndefined();
    expect(matchWispPath("/wisp/", "/wisp")).toBeUndefined();
    expect(matchWispPath("/wisp/", "/other/")).toBeUndefined();
  });

  it.each(["/wisp/a/b/", "/wisp/a/b/c:1", "/wisp//", "/wisp/nohost", "/wisp/%zz/", "/wisp/h:0"])(
    "%s is invalid, saying why",
    (path) => {
      const result = matchWispPath("/wisp/", path);
      expect(result?.kind).toBe("invalid");
      expect((result as { reason: string }).reason.length).toBeGreaterThan(0);
    },
  );
});

describe("wispSubprotocol", () => {
  it.each([
    [null, undefined],
    ["", undefined],
    ["wisp-v2", "wisp-v2"],
    ["wisp-v2, binary", "wisp-v2"],
  ])("%p -> %p", (header, expected) => {
    expect(wispSubprotocol(header)).toBe(expected);
  });
});
