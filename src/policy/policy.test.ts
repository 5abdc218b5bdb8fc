import { describe, expect, it } from "bun:test";
import fc from "fast-check";
import type { Decision } from "./decision.ts";
import { createPolicy, normaliseAddress, type Policy } from "./policy.ts";
import { parseRule } from "./rule.ts";

function policy(allow: string[] = [], deny: string[] = []): Policy {
  return createPolicy({ allow: allow.map(parseRule), deny: deny.map(parseRule) });
}

function reasonOf(decision: Decision): string | undefined {
  return decision.allowed ? undefined : decision.reason;
}

describe("policy with no rules", () => {
  const open = policy();

  it.each([
    "127.0.0.1",
    "::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "10.1.2.3",
    "192.168.1.100",
    "fd00::5",
    "8.8.8.8",
  ])("allows %s", (address) => {
    expect(open.check({ address, port: 80 })).toEqual({ allowed: true });
  });

  it.each([
    ["169.254.169.254", "cloud metadata address"],
    ["::ffff:169.254.169.254", "cloud metadata address"],
    ["::ffff:a9fe:a9fe", "cloud metadata address"],
    ["::169.254.169.254", "cloud metadata address"],
    ["fd00:ec2::254", "cloud metadata address"],
    ["0.0.0.0", "unspecified address"],
    ["::ffff:0.0.0.0", "unspecified address"],
    ["::", "unspecified address"],
    ["224.0.0.251", "multicast address"],
    ["ff02::fb", "multicast address"],
    ["255.255.255.255", "broadcast address"],
  ])("denies %s as a %s", (address, name) => {
    expect(reasonOf(open.check({ address, port: 80 }))).toContain(name);
  });

  it.each(["127.1", "0177.0.0.1", "2130706433", "[::1]", "fe80::1%lo", "localhost", ""])(
    "denies the non-canonical or invalid address %p instead of guessing",
    (address) => {
      expect(reasonOf(open.check({ address, port: 80 }))).toContain("is not an IP address");
    },
  );

  it.each([0, 65536, 1.5, -1, Number.NaN])("denies port %p", (port) => {
    expect(open.check({ address: "127.0.0.1", port }).allowed).toBe(false);
  });
});

describe("policy with allow rules", () => {
  const p = policy(["10.0.0.0/8:22", "[fd00::/8]:5432", "db.internal:5432", "*.plc.local:502-503"]);

  it.each([
    [{ address: "10.1.2.3", port: 22 }, true],
    [{ address: "::ffff:10.1.2.3", port: 22 }, true],
    [{ address: "10.1.2.3", port: 23 }, false],
    [{ address: "11.0.0.1", port: 22 }, false],
    [{ address: "127.0.0.1", port: 22 }, false],
    [{ address: "::ffff:127.0.0.1", port: 22 }, false],
    [{ address: "::1", port: 22 }, false],
    [{ address: "fd12::1", port: 5432 }, true],
    [{ address: "fd12::1", port: 5433 }, false],
    [{ host: "db.internal", address: "192.0.2.7", port: 5432 }, true],
    [{ host: "DB.Internal.", address: "192.0.2.7", port: 5432 }, true],
    [{ host: "db.internal", address: "192.0.2.7", port: 5431 }, false],
    [{ host: "other.internal", address: "192.0.2.7", port: 5432 }, false],
    // Port range edges.
    [{ host: "a.plc.local", address: "192.0.2.8", port: 501 }, false],
    [{ host: "a.plc.local", address: "192.0.2.8", port: 502 }, true],
    [{ host: "a.b.plc.local", address: "192.0.2.8", port: 503 }, true],
    [{ host: "a.plc.local", address: "192.0.2.8", port: 504 }, false],
    // The wildcard needs at least one label before the suffix, and a real label boundary.
    [{ host: "plc.local", address: "192.0.2.8", port: 502 }, false],
    [{ host: "evilplc.local", address: "192.0.2.8", port: 502 }, false],
    // A host rule never matches a client that asked for a bare address.
    [{ address: "192.0.2.7", port: 5432 }, false],
  ])("%j -> %p", (target, allowed) => {
    expect(p.check(target).allowed).toBe(allowed);
  });

  it("names the reason without echoing rules", () => {
    expect(reasonOf(p.check({ address: "11.0.0.1", port: 22 }))).toBe(
      "11.0.0.1:22 is not allowed by any allow rule",
    );
  });
});

describe("deny rules", () => {
  it("deny wins over allow", () => {
    const p = policy(["10.0.0.0/8"], ["10.0.0.5"]);
    expect(p.check({ address: "10.0.0.4", port: 80 }).allowed).toBe(true);
    expect(reasonOf(p.check({ address: "10.0.0.5", port: 80 }))).toBe("denied by rule 10.0.0.5");
    expect(p.check({ address: "::ffff:10.0.0.5", port: 80 }).allowed).toBe(false);
    expect(p.check({ address: "::ffff:a00:5", port: 80 }).allowed).toBe(false);
  });

  it("deny by port range only blocks those ports", () => {
    const p = policy([], ["0.0.0.0/0:22", "[::/0]:22"]);
    expect(p.check({ address: "127.0.0.1", port: 22 }).allowed).toBe(false);
    expect(p.check({ address: "::1", port: 22 }).allowed).toBe(false);
    expect(p.check({ address: "127.0.0.1", port: 21 }).allowed).toBe(true);
    expect(p.check({ address: "127.0.0.1", port: 23 }).allowed).toBe(true);
  });

  it("deny of loopback cannot be dodged by other spellings", () => {
    const p = policy([], ["127.0.0.0/8", "::1"]);
    for (const address of [
      "127.0.0.1",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "::127.0.0.1",
      "0:0:0:0:0:ffff:7f00:1",
      "::1",
      "::0.0.0.1",
      "0:0:0:0:0:0:0:1",
    ]) {
      expect({ address, allowed: p.check({ address, port: 80 }).allowed }).toEqual({
        address,
        allowed: false,
      });
    }
  });

  it("a deny host rule matches the name as asked, in any case, with a trailing dot", () => {
    const p = policy([], ["localhost", "*.corp.example"]);
    for (const host of [
      "localhost",
      "LOCALHOST",
      "localhost.",
      "a.corp.example",
      "x.Y.corp.example.",
    ]) {
      expect(p.check({ host, address: "192.0.2.1", port: 80 }).allowed).toBe(false);
    }
    expect(p.check({ host: "corp.example", address: "192.0.2.1", port: 80 }).allowed).toBe(true);
  });

  it("denies an invalid host name instead of matching it loosely", () => {
    const p = policy([], ["localhost"]);
    expect(reasonOf(p.check({ host: "localhost..", address: "127.0.0.1", port: 80 }))).toContain(
      "not a valid host name",
    );
  });
});

describe("built-in classes and explicit allows", () => {
  it("an allow inside a built-in class re-opens exactly it", () => {
    const p = policy(["169.254.169.254:80", "239.1.2.3"]);
    expect(p.check({ address: "169.254.169.254", port: 80 }).allowed).toBe(true);
    expect(p.check({ address: "::ffff:169.254.169.254", port: 80 }).allowed).toBe(true);
    expect(p.check({ address: "169.254.169.254", port: 81 }).allowed).toBe(false);
    expect(p.check({ address: "239.1.2.3", port: 5000 }).allowed).toBe(true);
    expect(p.check({ address: "239.1.2.4", port: 5000 }).allowed).toBe(false);
  });

  it("a broad allow does not re-open built-in classes", () => {
    const p = policy(["0.0.0.0/0", "::/0"]);
    expect(p.check({ address: "8.8.8.8", port: 80 }).allowed).toBe(true);
    expect(p.check({ address: "169.254.169.254", port: 80 }).allowed).toBe(false);
    expect(p.check({ address: "fd00:ec2::254", port: 80 }).allowed).toBe(false);
    expect(p.check({ address: "0.0.0.0", port: 80 }).allowed).toBe(false);
    expect(p.check({ address: "::", port: 80 }).allowed).toBe(false);
  });

  it("a host-name allow does not re-open a built-in class its name resolves to", () => {
    const p = policy(["*.example.com", "metadata.example.com"]);
    const decision = p.check({
      host: "metadata.example.com",
      address: "169.254.169.254",
      port: 80,
    });
    expect(reasonOf(decision)).toContain("cloud metadata address");
  });

  it("deny still wins over a re-opening allow", () => {
    const p = policy(["169.254.169.254"], ["169.254.0.0/16"]);
    expect(p.check({ address: "169.254.169.254", port: 80 }).allowed).toBe(false);
  });
});

describe("checkAll", () => {
  const p = policy(["*.example.com"], ["10.0.0.0/8"]);

  it("passes only when every address passes, and returns the first denial", () => {
    expect(p.checkAll("a.example.com", ["192.0.2.1", "2001:db8::1"], 443).allowed).toBe(true);
    expect(reasonOf(p.checkAll("a.example.com", ["192.0.2.1", "10.0.0.1"], 443))).toBe(
      "denied by rule 10.0.0.0/8",
    );
    expect(reasonOf(p.checkAll("a.example.com", ["192.0.2.1", "::ffff:0.0.0.0"], 443))).toContain(
      "unspecified address",
    );
  });

  it("fails closed on an empty address list", () => {
    expect(p.checkAll("a.example.com", [], 443).allowed).toBe(false);
  });
});

describe("checkHost (before resolving)", () => {
  it("denies a name a deny rule names, for the matching ports", () => {
    const p = policy([], ["*.internal:1-1024"]);
    expect(p.checkHost("db.internal", 80).allowed).toBe(false);
    expect(p.checkHost("db.internal", 1025).allowed).toBe(true);
  });

  it("denies a name no allow rule could admit when only host rules exist", () => {
    const p = policy(["db.internal:5432"]);
    expect(p.checkHost("db.internal", 5432).allowed).toBe(true);
    expect(p.checkHost("DB.INTERNAL.", 5432).allowed).toBe(true);
    expect(p.checkHost("db.internal", 22).allowed).toBe(false);
    expect(p.checkHost("evil.example", 5432).allowed).toBe(false);
  });

  it("lets a name through when an address rule might admit what it resolves to", () => {
    const p = policy(["10.0.0.0/8"]);
    expect(p.checkHost("anything.example", 80).allowed).toBe(true);
  });

  it("denies names that are not host names", () => {
    expect(policy().checkHost("bad_name", 80).allowed).toBe(false);
    expect(policy().checkHost("localhost", 0).allowed).toBe(false);
  });
});

describe("intersect (ticket pins)", () => {
  const server = policy(["10.0.0.0/8", "*.example.com:443"], ["10.9.0.0/16"]);

  it("narrows to what both allow", () => {
    const pinned = server.intersect(["10.1.0.0/16:22", "app.example.com:443"].map(parseRule));
    expect(pinned.check({ address: "10.1.2.3", port: 22 }).allowed).toBe(true);
    expect(reasonOf(pinned.check({ address: "10.1.2.3", port: 23 }))).toContain("ticket");
    expect(pinned.check({ address: "10.2.0.1", port: 22 }).allowed).toBe(false);
    expect(pinned.check({ host: "app.example.com", address: "192.0.2.1", port: 443 }).allowed).toBe(
      true,
    );
    expect(pinned.check({ host: "db.example.com", address: "192.0.2.1", port: 443 }).allowed).toBe(
      false,
    );
    // The unpinned policy still allows what the ticket does not.
    expect(server.check({ address: "10.2.0.1", port: 22 }).allowed).toBe(true);
  });

  it("a ticket can never widen the server's rules", () => {
    const pinned = server.intersect(["0.0.0.0/0", "169.254.169.254", "10.9.0.1"].map(parseRule));
    expect(pinned.check({ address: "8.8.8.8", port: 80 }).allowed).toBe(false);
    expect(pinned.check({ address: "169.254.169.254", port: 80 }).allowed).toBe(false);
    expect(pinned.check({ address: "10.9.0.1", port: 80 }).allowed).toBe(false);
  });

  it("an empty ticket allow list allows nothing", () => {
    const pinned = server.intersect([]);
    expect(pinned.check({ address: "10.1.2.3", port: 22 }).allowed).toBe(false);
    expect(pinned.checkHost("app.example.com", 443).allowed).toBe(false);
  });

  it("applies before resolving too, and chains", () => {
    const pinned = server.intersect([parseRule("app.example.com")]);
    expect(pinned.checkHost("app.example.com", 443).allowed).toBe(true);
    expect(pinned.checkHost("other.example.com", 443).allowed).toBe(false);
    const twice = pinned.intersect([parseRule("other.example.com")]);
    expect(twice.check({ host: "app.example.com", address: "192.0.2.1", port: 443 }).allowed).toBe(
      false,
    );
  });
});

describe("properties", () => {
  it("any IPv4 in an allowed CIDR passes, in plain and mapped form, and nothing outside", () => {
    const p = policy(["10.0.0.0/8"]);
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 1, max: 65535 }), (address, port) => {
        const inside = address.startsWith("10.");
        expect(p.check({ address, port }).allowed).toBe(inside);
        expect(p.check({ address: `::ffff:${address}`, port }).allowed).toBe(inside);
      }),
    );
  });

  it("a deny rule wins whatever allow rules say", () => {
    fc.assert(
      fc.property(fc.ipV4(), (address) => {
        const p = policy(["0.0.0.0/0", address], [address]);
        expect(p.check({ address, port: 80 }).allowed).toBe(false);
        expect(p.check({ address: `::ffff:${address}`, port: 80 }).allowed).toBe(false);
      }),
    );
  });
});

it("re-exports normaliseAddress", () => {
  expect(normaliseAddress("::ffff:7f00:1")).toBe("127.0.0.1");
});

describe("NAT64 addresses (64:ff9b::/96) are also checked as the IPv4 address they lead to", () => {
  it.each([
    ["64:ff9b::a9fe:a9fe", [], [], false], // 169.254.169.254: cloud metadata
    ["64:ff9b::169.254.169.254", [], [], false],
    ["64:ff9b::a00:1", [], ["10.0.0.0/8"], false], // denied IPv4 range
    ["64:ff9b::a00:1", [], [], true],
    ["64:ff9b::a00:1", ["64:ff9b::/96"], [], false], // allowed as IPv6, but 10.0.0.1 is not allowed
    ["64:ff9b::a00:1", ["64:ff9b::/96", "10.0.0.0/8"], [], true],
    ["64:ff9c::a9fe:a9fe", [], [], true], // outside the prefix: an ordinary IPv6 address
  ] as const)("%s with allow %p deny %p → allowed %p", (address, allow, deny, allowed) => {
    const decision = policy([...allow], [...deny]).check({ address, port: 80 });
    expect(decision.allowed).toBe(allowed);
  });
});

describe("SIIT (::ffff:0:a.b.c.d) and 6to4 (2002::/16) addresses are also checked as the IPv4 they carry", () => {
  it.each([
    ["::ffff:0:a9fe:a9fe", [], [], false], // IPv4-translated 169.254.169.254: cloud metadata
    ["::ffff:0:7f00:1", [], ["127.0.0.0/8"], false],
    ["::ffff:0:a00:1", [], [], true],
    ["2002:a9fe:a9fe::1", [], [], false], // 6to4 of 169.254.169.254
    ["2002:7f00:1::", [], ["127.0.0.0/8"], false],
    ["2002:7f00:1::", ["2002::/16"], [], false], // allowed as IPv6, but 127.0.0.1 is not allowed
    ["2002:7f00:1::", ["2002::/16", "127.0.0.0/8"], [], true],
    ["2003:7f00:1::", [], ["127.0.0.0/8"], true], // outside 2002::/16: an ordinary IPv6 address
  ] as const)("%s with allow %p deny %p → allowed %p", (address, allow, deny, allowed) => {
    const decision = policy([...allow], [...deny]).check({ address, port: 80 });
    expect(decision.allowed).toBe(allowed);
  });
});

describe("rules that name a protocol", () => {
  it("a deny rule with a protocol blocks that protocol only", () => {
    const p = policy([], ["udp:10.0.0.0/8:53"]);
    expect(p.check({ address: "10.1.2.3", port: 53, protocol: "udp" }).allowed).toBe(false);
    expect(p.check({ address: "10.1.2.3", port: 53, protocol: "tcp" })).toEqual({ allowed: true });
    expect(p.check({ address: "10.1.2.3", port: 54, protocol: "udp" })).toEqual({ allowed: true });
  });

  it("an allow rule with a protocol admits that protocol only", () => {
    const p = policy(["udp:10.0.0.0/8:53", "10.0.0.5:80"]);
    expect(p.check({ address: "10.1.2.3", port: 53, protocol: "udp" })).toEqual({ allowed: true });
    expect(p.check({ address: "10.1.2.3", port: 53, protocol: "tls" }).allowed).toBe(false);
    expect(p.check({ address: "10.0.0.5", port: 80, protocol: "tls" })).toEqual({ allowed: true });
  });

  it("a check that names no protocol fails closed: such deny rules match, such allow rules do not", () => {
    const denying = policy([], ["udp:10.0.0.0/8"]);
    expect(denying.check({ address: "10.1.2.3", port: 53 }).allowed).toBe(false);
    const allowing = policy(["udp:10.0.0.0/8"]);
    expect(allowing.check({ address: "10.1.2.3", port: 53 }).allowed).toBe(false);
  });

  it("applies to host names before resolution, and to re-opened built-in classes", () => {
    const p = policy(["tls:*.corp.example:443"], ["udp:db.internal"]);
    expect(p.checkHost("db.internal", 53, "udp").allowed).toBe(false);
    expect(p.checkHost("db.internal", 53, "tcp").allowed).toBe(false);
    expect(p.checkHost("www.corp.example", 443, "tls")).toEqual({ allowed: true });
    expect(p.checkHost("www.corp.example", 443, "tcp").allowed).toBe(false);
    const reopened = policy(["udp:169.254.169.254:53"]);
    expect(reopened.check({ address: "169.254.169.254", port: 53, protocol: "udp" })).toEqual({
      allowed: true,
    });
    expect(reopened.check({ address: "169.254.169.254", port: 53, protocol: "tcp" }).allowed).toBe(
      false,
    );
  });

  it("a ticket's allow rules may name a protocol too", () => {
    const narrowed = policy().intersect([parseRule("tls:127.0.0.1:443")]);
    expect(narrowed.check({ address: "127.0.0.1", port: 443, protocol: "tls" })).toEqual({
      allowed: true,
    });
    expect(narrowed.check({ address: "127.0.0.1", port: 443, protocol: "tcp" }).allowed).toBe(
      false,
    );
  });
});
