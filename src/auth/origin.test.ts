import { describe, expect, it } from "bun:test";
import { createOriginCheck, OriginPatternError } from "./origin.ts";

describe("origin patterns", () => {
  it.each([
    ["", "expected SCHEME://HOST[:PORT]"],
    ["app.example.com", "expected SCHEME://HOST[:PORT]"],
    ["https://app.example.com/", "expected SCHEME://HOST[:PORT]"],
    ["https://app.example.com/path", "expected SCHEME://HOST[:PORT]"],
    ["https://user@app.example.com", "expected SCHEME://HOST[:PORT]"],
    ["https://app.example.com?x", "expected SCHEME://HOST[:PORT]"],
    ["ftp://app.example.com", "expected SCHEME://HOST[:PORT]"],
    ["https://*", "wildcard is only allowed"],
    ["https://app.*.com", "wildcard is only allowed"],
    ["https://*.*.example.com", "wildcard is only allowed"],
    ["https://*.127.0.0.1", "not an address"],
    ["https://app.example.com:99999", "not a valid host"],
    ["null", "opaque origin null"],
  ])("refuses %p at start-up (%s)", (pattern, problem) => {
    let caught: unknown;
    try {
      createOriginCheck({ allow: [pattern], require: false });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(OriginPatternError);
    expect((caught as Error).message).toStartWith(`invalid origin "${pattern}": `);
    expect((caught as Error).message).toContain(problem);
  });
});

describe("origin check", () => {
  const check = createOriginCheck({
    allow: [
      "https://app.example.com",
      "http://localhost:3000",
      "https://*.example.org",
      "HTTPS://Upper.Example.NET:443",
    ],
    require: false,
  });

  it.each([
    "https://app.example.com",
    "https://app.example.com:443",
    "HTTPS://APP.EXAMPLE.COM",
    "http://localhost:3000",
    "https://a.example.org",
    "https://a.b.example.org",
    "https://upper.example.net",
  ])("allows %p", (origin) => {
    expect(check(origin)).toEqual({ allowed: true });
  });

  it.each([
    "http://app.example.com",
    "https://app.example.com:8443",
    "https://app.example.com.evil.test",
    "https://evilapp.example.com",
    "https://example.org",
    "https://evilexample.org",
    "http://a.example.org",
    "https://a.example.org:8443",
    "http://localhost:3001",
    "http://localhost",
    "null",
    "",
    "https://app.example.com/",
    "https://app.example.com/path",
    "https://user@app.example.com",
    "not a url",
  ])("refuses %p", (origin) => {
    const decision = check(origin);
    expect(decision.allowed).toBe(false);
  });

  it("allows a missing Origin (non-browser clients) unless it is required", () => {
    expect(check(undefined)).toEqual({ allowed: true });
    expect(check(null)).toEqual({ allowed: true });
    const required = createOriginCheck({ allow: ["https://app.example.com"], require: true });
    expect(required(null)).toEqual({ allowed: false, reason: "an Origin header is required" });
    expect(required("https://app.example.com")).toEqual({ allowed: true });
  });

  it("with no patterns allows any Origin, and requires one only when asked", () => {
    const open = createOriginCheck({ allow: [], require: false });
    expect(open("https://anything.test")).toEqual({ allowed: true });
    expect(open(null)).toEqual({ allowed: true });
    const required = createOriginCheck({ allow: [], require: true });
    expect(required("https://anything.test")).toEqual({ allowed: true });
    expect(required(undefined).allowed).toBe(false);
  });

  it("refuses an empty Origin header when one is required or origins are restricted", () => {
    const required = createOriginCheck({ allow: [], require: true });
    expect(required("")).toEqual({ allowed: false, reason: "the Origin header is empty" });
    expect(required("  ").allowed).toBe(false);
    expect(check("").allowed).toBe(false);
    expect(createOriginCheck({ allow: [], require: false })("")).toEqual({ allowed: true });
  });

  it("names the refused origin in its canonical form", () => {
    expect(check("HTTPS://Evil.Test")).toEqual({
      allowed: false,
      reason: "origin https://evil.test is not allowed",
    });
  });
});

describe("sameOrigin: the console page's own origin", () => {
  const check = createOriginCheck({
    allow: ["https://app.example.com"],
    require: false,
    sameOrigin: true,
  });

  it.each([
    ["http://127.0.0.1:8080", "http://127.0.0.1:8080/"],
    ["http://localhost:8080", "http://localhost:8080/wisp/"],
    ["http://[::1]:8080", "http://[::1]:8080/"],
    ["https://192.0.2.7", "https://192.0.2.7/"],
  ])("allows %p, the origin of %p", (origin, url) => {
    expect(check(origin, url)).toEqual({ allowed: true });
  });

  it.each([
    // Another port or scheme is another origin.
    ["http://127.0.0.1:8081", "http://127.0.0.1:8080/"],
    ["https://127.0.0.1:8080", "http://127.0.0.1:8080/"],
    // A name could be anyone's page until it resolves here (DNS rebinding): it must be listed.
    ["http://proxy.example.com:8080", "http://proxy.example.com:8080/"],
    ["http://a_b.example.com:8080", "http://a_b.example.com:8080/"],
    // No request URL, no own origin.
    ["http://127.0.0.1:8080", undefined],
  ])("refuses %p for %p", (origin, url) => {
    expect(check(origin, url)).toEqual({
      allowed: false,
      reason: `origin ${origin} is not allowed`,
    });
  });

  it("is off unless asked for", () => {
    const plain = createOriginCheck({ allow: ["https://app.example.com"], require: false });
    expect(plain("http://127.0.0.1:8080", "http://127.0.0.1:8080/").allowed).toBe(false);
  });
});
