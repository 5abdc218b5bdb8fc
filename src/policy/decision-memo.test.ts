import { describe, expect, it } from "bun:test";
import type { Decision } from "./decision.ts";
import { DecisionMemo, MEMO_LIMIT } from "./decision-memo.ts";
import { createPolicy } from "./policy.ts";
import { parseRule } from "./rule.ts";

const allowed: Decision = { allowed: true };
const denied: Decision = { allowed: false, reason: "no" };

describe("DecisionMemo", () => {
  it("keeps a decision per protocol, address and port", () => {
    const memo = new DecisionMemo();
    memo.set("tcp", "10.0.0.1", 80, allowed);
    memo.set(undefined, "10.0.0.1", 80, denied);
    expect(memo.get("tcp", "10.0.0.1", 80)).toBe(allowed);
    expect(memo.get(undefined, "10.0.0.1", 80)).toBe(denied);
    expect(memo.get("udp", "10.0.0.1", 80)).toBeUndefined();
    expect(memo.get("tcp", "10.0.0.1", 81)).toBeUndefined();
    expect(memo.get("tcp", "10.0.0.2", 80)).toBeUndefined();
  });

  it("is bounded: once full, it starts afresh", () => {
    const memo = new DecisionMemo();
    for (let port = 1; port <= MEMO_LIMIT; port++) memo.set("tcp", "10.0.0.1", port, allowed);
    expect(memo.get("tcp", "10.0.0.1", 1)).toBe(allowed);
    memo.set("tcp", "10.0.0.2", 1, denied);
    expect(memo.get("tcp", "10.0.0.1", 1)).toBeUndefined();
    expect(memo.get("tcp", "10.0.0.2", 1)).toBe(denied);
  });
});

describe("a policy's decisions on literals", () => {
  it("are made once and stay what they were, allowed or denied", () => {
    const policy = createPolicy({ allow: [parseRule("127.0.0.1:7")], deny: [] });
    const first = policy.check({ address: "127.0.0.1", port: 7, protocol: "tcp" });
    expect(first.allowed).toBe(true);
    expect(policy.check({ address: "127.0.0.1", port: 7, protocol: "tcp" })).toBe(first);
    const refused = policy.check({ address: "127.0.0.1", port: 8, protocol: "tcp" });
    expect(refused).toEqual({
      allowed: false,
      reason: "127.0.0.1:8 is not allowed by any allow rule",
    });
    expect(policy.check({ address: "127.0.0.1", port: 8, protocol: "tcp" })).toBe(refused);
  });

  it("are not shared between policies: a narrowed policy decides for itself", () => {
    const server = createPolicy({ allow: [], deny: [] });
    expect(server.check({ address: "10.0.0.1", port: 22 }).allowed).toBe(true);
    const narrowed = server.narrow({ allow: [parseRule("10.0.0.1:80")], deny: [] }, "alice");
    expect(narrowed.check({ address: "10.0.0.1", port: 22 }).allowed).toBe(false);
    expect(server.check({ address: "10.0.0.1", port: 22 }).allowed).toBe(true);
  });
});
