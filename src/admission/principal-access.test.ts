import { describe, expect, it } from "bun:test";
import { parseAccessFile } from "../auth/access-file.ts";
import { createPolicy } from "../policy/policy.ts";
import { type Counts, localCounts } from "../state/counts.ts";
import { createRevocations } from "../state/revocations.ts";
import { createPrincipalAccess } from "./principal-access.ts";

const VOCABULARY = { protocols: ["tcp", "udp"], frontEnds: ["socket2web", "raw", "wisp"] };
const parse = (text: string) => parseAccessFile(text, "access.toml", VOCABULARY);
const open = createPolicy({ allow: [], deny: [] });
const alice = { name: "alice", source: "token" } as const;
const target = (port: number) => ({
  protocol: "tcp",
  host: "10.0.0.5",
  location: { kind: "network", address: "10.0.0.5", port } as const,
});

describe("createPrincipalAccess", async () => {
  it("counts a principal's sessions against max_sessions until each lease is released", async () => {
    const access = createPrincipalAccess(
      parse('[[rule]]\nprincipals = ["alice"]\nmax_sessions = 1\n'),
      open,
    );
    const first = await access.admit(alice, "raw", "tcp");
    if (!first.ok) throw new Error(first.reason);
    const second = await access.admit(alice, "wisp", "tcp");
    expect(second.ok ? "" : second.kind).toBe("max_sessions");
    first.lease.release();
    first.lease.release();
    expect(access.held("alice")).toBe(0);
    expect((await access.admit(alice, "raw", "tcp")).ok).toBe(true);
  });

  it("narrows the server's policy by the rule, and refuses front ends and protocols it leaves out", async () => {
    const access = createPrincipalAccess(
      parse(
        '[[rule]]\nprincipals = ["alice"]\nallow = ["10.0.0.0/8:22"]\nprotocols = ["tcp"]\nfront_ends = ["raw"]\n',
      ),
      open,
    );
    const admitted = await access.admit(alice, "raw", "tcp");
    if (!admitted.ok) throw new Error(admitted.reason);
    expect(admitted.policy.check({ address: "10.0.0.5", port: 22 }).allowed).toBe(true);
    expect(admitted.policy.check({ address: "10.0.0.5", port: 80 }).allowed).toBe(false);
    const wisp = await access.admit(alice, "wisp", "tcp");
    expect(wisp.ok ? "" : wisp.kind).toBe("front_end");
    const udp = await access.admit(alice, "raw", "udp");
    expect(udp.ok ? "" : udp.kind).toBe("protocol");
  });

  it("a reload revokes the open sessions whose target the new rules deny, and only those", async () => {
    const access = createPrincipalAccess(parse('[[rule]]\nprincipals = ["alice"]\n'), open);
    const revoked: string[] = [];
    for (const port of [22, 80]) {
      const admitted = await access.admit(alice, "raw", "tcp");
      if (!admitted.ok) throw new Error(admitted.reason);
      expect(admitted.lease.opened(target(port))).toBeUndefined();
      admitted.lease.onRevoke((reason) => revoked.push(`${port}: ${reason}`));
    }
    const closed = access.replace(
      parse('[[rule]]\nprincipals = ["alice"]\ndeny = ["10.0.0.5:80"]\n'),
    );
    expect(closed).toBe(1);
    expect(revoked).toEqual(["80: denied by rule 1's rule 10.0.0.5:80"]);
  });

  it("a session whose rules were reloaded while its target opened is checked against the new ones", async () => {
    const access = createPrincipalAccess(parse('[[rule]]\nprincipals = ["alice"]\n'), open);
    const admitted = await access.admit(alice, "raw", "tcp");
    if (!admitted.ok) throw new Error(admitted.reason);
    access.replace(parse('[[rule]]\nprincipals = ["alice"]\nallow = ["10.0.0.5:22"]\n'));
    expect(admitted.lease.opened(target(80))).toContain("not allowed by rule 1");
  });

  it("rate: sessions per second for the principal", async () => {
    const access = createPrincipalAccess(
      parse('[[rule]]\nprincipals = ["alice"]\nrate = 1\n'),
      open,
    );
    expect((await access.admit(alice, "raw", "tcp")).ok).toBe(true);
    const second = await access.admit(alice, "raw", "tcp");
    expect(second.ok ? "" : second.kind).toBe("rate");
  });

  it("an operator's revocation refuses the principal's new sessions until its time, and no other's", async () => {
    let now = 1_000;
    const revocations = createRevocations(() => now);
    const access = createPrincipalAccess(undefined, open, { revokedUntil: revocations.until });
    revocations.revoke("alice", 5_000);
    const refused = await access.admit(alice, "raw", "tcp");
    expect(refused.ok ? "" : refused.reason).toBe(
      "alice's sessions are refused until 1970-01-01T00:00:05.000Z (ended by an operator)",
    );
    expect((await access.admit({ name: "bob", source: "token" }, "raw", "tcp")).ok).toBe(true);
    now = 5_000;
    expect((await access.admit(alice, "raw", "tcp")).ok).toBe(true);
    expect(revocations.size).toBe(0);
  });

  it("asks the counts only when the rule sets a cap or a rate, and gives the slot back on release", async () => {
    const asked: string[] = [];
    const counts = localCounts();
    const spy: Counts = {
      ...counts,
      admit(key, limits, hold) {
        asked.push(`${key} most=${limits.most} hold=${hold}`);
        return counts.admit(key, limits, hold);
      },
      release(key) {
        asked.push(`release ${key}`);
        counts.release(key);
      },
    };
    const access = createPrincipalAccess(
      parse('[[rule]]\nprincipals = ["alice"]\nmax_sessions = 2\n'),
      open,
      { counts: spy },
    );
    const admitted = await access.admit(alice, "raw", "tcp");
    if (!admitted.ok) throw new Error(admitted.reason);
    expect((await access.admit({ name: "bob", source: "token" }, "raw", "tcp")).ok).toBe(true);
    admitted.lease.release();
    expect(asked).toEqual(["principal:alice most=2 hold=true", "release principal:alice"]);
  });

  it("a cap a reload adds counts the sessions its principal already holds", async () => {
    const access = createPrincipalAccess(parse('[[rule]]\nprincipals = ["alice"]\n'), open);
    const first = await access.admit(alice, "raw", "tcp");
    const second = await access.admit(alice, "raw", "tcp");
    if (!first.ok || !second.ok) throw new Error("refused without a cap");
    access.replace(parse('[[rule]]\nprincipals = ["alice"]\nmax_sessions = 2\n'));
    const third = await access.admit(alice, "raw", "tcp");
    expect(third.ok ? "" : third.kind).toBe("max_sessions");
    first.lease.release();
    expect((await access.admit(alice, "raw", "tcp")).ok).toBe(true);
  });
});
