import { describe, expect, it } from "bun:test";
import fc from "fast-check";
import {
  createTokenSet,
  parseTokenFile,
  parseTokenList,
  TokenListError,
  unnamedPrincipal,
} from "./tokens.ts";

describe("parseTokenFile", () => {
  it("reads one token a line, skipping blanks and comments, trimming", () => {
    const text = "# tokens for the proxy\n\nalpha-1\r\n  beta_2  \n\t# indented comment\ngamma=\n";
    expect(parseTokenFile(text).map((t) => t.token)).toEqual(["alpha-1", "beta_2", "gamma="]);
  });

  it("names a token by NAME TOKEN; an unnamed one by its digest's first 8 hex digits", () => {
    const parsed = parseTokenFile("alice \t alpha-1\nbeta_2\n");
    expect(parsed).toEqual([
      { token: "alpha-1", name: "alice" },
      // sha256("beta_2") starts with these digits
      { token: "beta_2", name: unnamedPrincipal("beta_2") },
    ]);
    expect(unnamedPrincipal("beta_2")).toMatch(/^token:[0-9a-f]{8}$/);
    expect(unnamedPrincipal("abc")).toBe("token:ba7816bf");
  });

  it("refuses a line of three fields, naming the line", () => {
    expect(() => parseTokenFile("a b c\n", "/etc/tokens")).toThrow("/etc/tokens line 1:");
  });

  it("names the line but never the token", () => {
    let caught: unknown;
    try {
      parseTokenFile("ok\nsecret with space\n", "/etc/tokens");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TokenListError);
    expect((caught as Error).message).toStartWith("/etc/tokens line 2:");
    expect((caught as Error).message).not.toContain("secret");
  });

  it("refuses non-ASCII tokens", () => {
    expect(() => parseTokenFile("tökén")).toThrow("visible ASCII");
  });
});

describe("parseTokenList", () => {
  it("splits on commas and ignores empty items", () => {
    expect(parseTokenList(" a1, b2 ,,c3,").map((t) => t.token)).toEqual(["a1", "b2", "c3"]);
    expect(parseTokenList(undefined)).toEqual([]);
    expect(parseTokenList("")).toEqual([]);
  });

  it("names the item but never the token", () => {
    expect(() => parseTokenList("a1,bad\ttoken")).toThrow("SOCKET2WEB_AUTH_TOKENS item 2:");
  });
});

describe("createTokenSet", () => {
  const set = createTokenSet(["alpha-1", "beta_2", "alpha-1"]);

  it("matches only the exact tokens", () => {
    expect(set.size).toBe(2);
    expect(set.matches("alpha-1")).toBe(true);
    expect(set.matches("beta_2")).toBe(true);
    for (const wrong of ["", "alpha-", "alpha-12", "ALPHA-1", " alpha-1", "beta_2\n"]) {
      expect(set.matches(wrong)).toBe(false);
    }
  });

  it("tells the matching token's name", () => {
    const named = createTokenSet([{ token: "t1", name: "alice" }, "t2"]);
    expect(named.nameOf("t1")).toBe("alice");
    expect(named.nameOf("t2")).toBe(unnamedPrincipal("t2"));
    expect(named.nameOf("t3")).toBeUndefined();
  });

  it("an empty set matches nothing", () => {
    expect(createTokenSet([]).matches("")).toBe(false);
  });

  it("matches a token iff it is in the set (property)", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string(), { minLength: 1 }), fc.string(), (tokens, probe) => {
        const tokenSet = createTokenSet(tokens);
        expect(tokenSet.matches(tokens[0] ?? "")).toBe(true);
        expect(tokenSet.matches(probe)).toBe(tokens.includes(probe));
      }),
    );
  });
});
