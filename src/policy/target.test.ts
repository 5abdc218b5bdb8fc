import { describe, expect, it } from "bun:test";
import { mapResolver, type Resolver } from "../net/resolver.ts";
import { createPolicy, type Policy } from "./policy.ts";
import { parseRule } from "./rule.ts";
import { resolveTarget } from "./target.ts";

function policy(allow: string[] = [], deny: string[] = []): Policy {
  return createPolicy({ allow: allow.map(parseRule), deny: deny.map(parseRule) });
}

const resolver = mapResolver({
  localhost: ["127.0.0.1", "::1"],
  "metadata.test": "169.254.169.254",
  "mixed.test": ["192.0.2.1", "169.254.169.254"],
  "mapped.test": "::ffff:127.0.0.1",
  "zero.test": "0.0.0.0",
  "app.example.com": "192.0.2.10",
});

function counting(inner: Resolver): { resolve: Resolver; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    resolve: (host) => {
      calls.push(host);
      return inner(host);
    },
  };
}

describe("resolveTarget", () => {
  it("connects to the normalised literal that was checked", async () => {
    expect(await resolveTarget(policy(), resolver, "::ffff:127.0.0.1", 80)).toEqual({
      ok: true,
      addresses: ["127.0.0.1"],
    });
    expect(await resolveTarget(policy(), resolver, "0:0::1", 80)).toEqual({
      ok: true,
      addresses: ["::1"],
    });
  });

  it.each(["0.0.0.0", "::", "::ffff:0.0.0.0", "169.254.169.254", "::ffff:a9fe:a9fe"])(
    "forbids the literal %s without resolving anything",
    async (target) => {
      const { resolve, calls } = counting(resolver);
      const result = await resolveTarget(policy(), resolve, target, 80);
      expect(result.ok).toBe(false);
      expect(result.ok === false && result.error).toBe("forbidden");
      expect(calls).toEqual([]);
    },
  );

  it("resolves a name once, in normalised form, and returns every checked address", async () => {
    const { resolve, calls } = counting(resolver);
    expect(await resolveTarget(policy(), resolve, "LocalHost.", 8080)).toEqual({
      ok: true,
      addresses: ["127.0.0.1", "::1"],
    });
    expect(calls).toEqual(["localhost"]);
  });

  it("forbids localhost. when localhost is denied by name or by address", async () => {
    for (const p of [policy([], ["localhost"]), policy([], ["127.0.0.0/8", "::1"])]) {
      const result = await resolveTarget(p, resolver, "localhost.", 80);
      expect(result.ok === false && result.error).toBe("forbidden");
    }
  });

  it("forbids a name that resolves to a denied address", async () => {
    const result = await resolveTarget(policy(), resolver, "metadata.test", 80);
    expect(result).toEqual({
      ok: false,
      error: "forbidden",
      reason: "169.254.169.254 is a cloud metadata address",
    });
  });

  it("forbids a name when any one of its addresses is denied", async () => {
    const result = await resolveTarget(policy(), resolver, "mixed.test", 80);
    expect(result.ok === false && result.error).toBe("forbidden");
  });

  it("checks a resolved mapped address as IPv4 and connects to the IPv4 form", async () => {
    expect(await resolveTarget(policy(), resolver, "mapped.test", 80)).toEqual({
      ok: true,
      addresses: ["127.0.0.1"],
    });
    const denied = await resolveTarget(policy([], ["127.0.0.1"]), resolver, "mapped.test", 80);
    expect(denied.ok).toBe(false);
    expect((await resolveTarget(policy(), resolver, "zero.test", 80)).ok).toBe(false);
  });

  it("does not resolve a name the policy already refuses", async () => {
    const { resolve, calls } = counting(resolver);
    const result = await resolveTarget(policy(["db.internal"]), resolve, "app.example.com", 80);
    expect(result.ok === false && result.error).toBe("forbidden");
    expect(calls).toEqual([]);
  });

  it("reports a name that does not resolve as connect_failed", async () => {
    expect(await resolveTarget(policy(), resolver, "nowhere.test", 80)).toEqual({
      ok: false,
      error: "connect_failed",
      reason: "could not resolve nowhere.test: ENOTFOUND",
    });
    const empty: Resolver = async () => [];
    const result = await resolveTarget(policy(), empty, "app.example.com", 80);
    expect(result.ok === false && result.error).toBe("connect_failed");
  });

  it("forbids what is neither an address nor a host name", async () => {
    for (const target of ["127.1", "under_score", "", "a..b"]) {
      const result = await resolveTarget(policy(), resolver, target, 80);
      expect(result.ok === false && result.error).toBe("forbidden");
    }
  });

  it("applies ticket pins to names and addresses", async () => {
    const pinned = policy().intersect([parseRule("app.example.com:443")]);
    expect((await resolveTarget(pinned, resolver, "app.example.com", 443)).ok).toBe(true);
    expect((await resolveTarget(pinned, resolver, "app.example.com", 80)).ok).toBe(false);
    expect((await resolveTarget(pinned, resolver, "192.0.2.10", 443)).ok).toBe(false);
  });
});
