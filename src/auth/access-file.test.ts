import { describe, expect, it } from "bun:test";
import { AccessFileError, parseAccessFile } from "./access-file.ts";
import { chooseRule } from "./access-rules.ts";

const VOCABULARY = { protocols: ["tcp", "udp", "tls"], frontEnds: ["socket2web", "raw", "wisp"] };
const parse = (text: string) => parseAccessFile(text, "access.toml", VOCABULARY);
const errorOf = (text: string): string => {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(AccessFileError);
    return (error as Error).message;
  }
  throw new Error("expected an AccessFileError");
};

const EXAMPLE = `
# operators: anything the server allows, two sessions at once
[[rule]]
name = "ops"
claims = { groups = "ops" }
max_sessions = 2

[[rule]]
principals = ["alice", "svc-*"]
allow = ["10.0.0.0/8:22"]
deny = ["10.0.0.1:22"]
protocols = ["tcp"]
front_ends = ["socket2web", "wisp"]
rate = 5
max_lifetime = 3600
idle_timeout = 300
bandwidth_up = 1000000
bandwidth_down = 2000000
session_bandwidth_up = 500000
session_bandwidth_down = 500000
single_use_tickets = true

[default]
max_sessions = 1
`;

describe("parseAccessFile", () => {
  it("reads rules in order, a default, and the names given literally", () => {
    const rules = parse(EXAMPLE);
    expect(rules.rules.map((rule) => [rule.label, rule.line])).toEqual([
      ["ops", 3],
      ["rule 2", 8],
    ]);
    const second = rules.rules[1];
    expect(second?.targets?.allow.map((rule) => rule.text)).toEqual(["10.0.0.0/8:22"]);
    expect(second?.protocols).toEqual(["tcp"]);
    expect(second?.frontEnds).toEqual(["socket2web", "wisp"]);
    expect(second?.sessionBandwidthDown).toBe(500000);
    expect(second?.singleUseTickets).toBe(true);
    expect(rules.fallback).toEqual({ maxSessions: 1 });
    expect([...rules.named]).toEqual(["alice"]);
  });

  it("an empty file is no rule and no default", () => {
    expect(parse("")).toEqual({ rules: [], fallback: undefined, named: new Set() });
  });

  it("names the line of the key that is wrong", () => {
    expect(errorOf(`${EXAMPLE}\n[[rule]]\nprincipals = ["x"]\nmax_sessions = -1\n`)).toBe(
      "access.toml:28: max_sessions: must be a whole number from 0 to 1000000",
    );
    expect(errorOf('[[rule]]\nprincipals = ["x"]\n\nallow = ["10.0.0.0/33"]\n')).toStartWith(
      "access.toml:4: allow: ",
    );
    expect(errorOf('[[rule]]\nprincipals = ["x"]\nprotocols = ["gopher"]\n')).toStartWith(
      'access.toml:3: protocols: unknown name "gopher"',
    );
    expect(errorOf('[[rule]]\nprincipals = ["x"]\nfront_end = ["raw"]\n')).toStartWith(
      "access.toml:3: front_end: unknown key",
    );
    expect(errorOf('[default]\nmax_sessions = 1\nprincipals = ["x"]\n')).toStartWith(
      "access.toml:3: principals: unknown key",
    );
  });

  it("single_use_tickets = true is an error at its line where used tickets are not remembered in one place", () => {
    const refused = { ...VOCABULARY, singleUseRefused: "needs --workers 1, or --state" };
    const text =
      '[[rule]]\nprincipals = ["x"]\nsingle_use_tickets = false\n[default]\n\nsingle_use_tickets = true\n';
    expect(() => parseAccessFile(text, "access.toml", refused)).toThrow(
      new AccessFileError("access.toml:6: single_use_tickets: needs --workers 1, or --state"),
    );
    // false asks nothing of the server.
    expect(
      parseAccessFile('[[rule]]\nprincipals = ["x"]\nsingle_use_tickets = false\n', "a", refused)
        .rules[0]?.singleUseTickets,
    ).toBe(false);
  });

  it("a rule that matches nobody in particular is an error at its header", () => {
    expect(errorOf('[[rule]]\nprincipals = ["a"]\n\n[[rule]]\nmax_sessions = 1\n')).toStartWith(
      "access.toml:4: a rule needs principals or claims",
    );
  });

  it("a TOML syntax error names the line where the file stops parsing", () => {
    expect(errorOf('[[rule]]\nprincipals = ["a"]\nmax_sessions = = 2\n')).toStartWith(
      "access.toml:3: not valid TOML",
    );
  });

  it("unknown top-level keys are errors", () => {
    expect(errorOf("\nrules = []\n")).toStartWith('access.toml:2: unknown key "rules"');
  });
});

describe("chooseRule", () => {
  const rules = parse(EXAMPLE);

  it("first match wins: a claim test, then names and globs, then the default", () => {
    const ops = chooseRule(rules, {
      name: "alice",
      source: "ticket",
      claims: { groups: ["dev", "ops"] },
    });
    expect(ops.kind === "rule" && ops.rule.label).toBe("ops");
    expect(ops.why).toBe("ops (line 3) claim groups holds ops");
    const alice = chooseRule(rules, { name: "alice", source: "token" });
    expect(alice.why).toBe("rule 2 (line 8) names alice");
    const svc = chooseRule(rules, { name: "svc-backup", source: "token" });
    expect(svc.why).toBe("rule 2 (line 8) svc-* matches svc-backup");
    const other = chooseRule(rules, { name: "carol", source: "header", claims: { groups: "dev" } });
    expect(other.kind).toBe("default");
  });

  it("without a default, nothing applies", () => {
    expect(
      chooseRule(parse('[[rule]]\nprincipals = ["a"]\n'), { name: "b", source: "token" }).kind,
    ).toBe("none");
  });
});
