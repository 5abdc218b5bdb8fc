import { describe, expect, it } from "bun:test";
import { createRevocations, MAX_REVOCATIONS } from "./revocations.ts";

describe("createRevocations", () => {
  it("refuses until the time, keeps the later of two, and forgets what has passed", () => {
    let now = 0;
    const revocations = createRevocations(() => now);
    revocations.revoke("alice", 100);
    revocations.revoke("alice", 50);
    expect(revocations.until("alice")).toBe(100);
    revocations.revoke("alice", 200);
    expect(revocations.until("alice")).toBe(200);
    revocations.revoke("bob", 0);
    expect(revocations.until("bob")).toBeUndefined();
    now = 200;
    expect(revocations.until("alice")).toBeUndefined();
    expect(revocations.size).toBe(0);
  });

  it("holds at most MAX_REVOCATIONS, forgetting the one that ends soonest", () => {
    const revocations = createRevocations(() => 0);
    for (let i = 0; i < MAX_REVOCATIONS; i++) revocations.revoke(`p${i}`, 1_000 + i);
    revocations.revoke("late", 1_000_000);
    expect(revocations.size).toBe(MAX_REVOCATIONS);
    expect(revocations.until("p0")).toBeUndefined();
    expect(revocations.until("p1")).toBe(1_001);
    expect(revocations.until("late")).toBe(1_000_000);
  });
});
