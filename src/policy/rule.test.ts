import { describe, expect, it } from "bun:test";
import fc from "fast-check";
import { formatRange } from "../net/address.ts";
import { PolicyRuleError, parseRule, type Rule } from "./rule.ts";

function summary(rule: Rule): string {
  const { target } = rule;
  const what =
    target.kind === "address"
      ? formatRange(target.range)
      : target.kind === "host"
        ? `host ${target.name}`
        : `*.${target.suffix}`;
  return rule.ports ? `${what} ports ${rule.ports.low}-${rule.ports.high}` : `${what} any port`;
}

describe("parseRule", () => {
  it.each([
    ["10.0.0.0/8:22", "10.0.0.0/8 ports 22-22"],
    ["[fd00::/8]:5432", "fd00::/8 ports 5432-5432"],
    ["db.internal:5432", "host db.internal ports 5432-5432"],
    ["*.plc.local:502-503", "*.plc.local ports 502-503"],
    ["192.168.1.100", "192.168.1.100/32 any port"],
    ["[::1]:80", "::1/128 ports 80-80"],
    ["[::1]", "::1/128 any port"],
    ["fd00::/8", "fd00::/8 any port"],
    ["::1", "::1/128 any port"],
    ["DB.Internal.", "host db.internal any port"],
    ["localhost:1-65535", "host localhost ports 1-65535"],
    ["10.0.0.1:1", "10.0.0.1/32 ports 1-1"],
    ["10.0.0.1:65535", "10.0.0.1/32 ports 65535-65535"],
    ["[::ffff:127.0.0.1]:80", "127.0.0.1/32 ports 80-80"],
    ["[::ffff:10.0.0.0/104]", "10.0.0.0/8 any port"],
    ["*.Example.COM", "*.example.com any port"],
  ])("%s", (text, expected) => {
    const rule = parseRule(text);
    expect(summary(rule)).toBe(expected);
    expect(rule.text).toBe(text);
  });

  it.each([
    ["", "it is empty"],
    ["0x7f.0.0.1", "never matches"],
    ["0x7f.0.0.1:80", "never matches"],
    ["127.0.0x1", "never matches"],
    ["example.123", "never matches"],
    ["*.0x7f", "never matches"],
    ["*.10", "never matches"],
    [" 10.0.0.1", "white space"],
    ["127.0.0.1,127.0.0.2", "it holds a comma: give one rule per value"],
    ["10.0.0.1:0", 'port "0" must be a whole number from 1 to 65535'],
    ["10.0.0.1:65536", 'port "65536"'],
    ["10.0.0.1:", 'port ""'],
    ["10.0.0.1:022", 'port "022"'],
    ["10.0.0.1:http", 'port "http"'],
    ["10.0.0.1:503-502", "reversed"],
    ["10.0.0.1:1-2-3", "not a port or a port range"],
    ["10.0.0.1:0-10", 'port "0"'],
    ["10.0.0.1:10-70000", 'port "70000"'],
    ["10.0.0.1/8", "host bits set"],
    ["10.0.0.0/33", "prefix length"],
    ["127.1", "not an IPv4 address"],
    ["0177.0.0.1", "not an IPv4 address"],
    ["999.1.1.1:80", "not an IPv4 address"],
    ["[fd00::/8", 'without a matching "]"'],
    ["[fd00::]x", 'expected ":PORT"'],
    ["[10.0.0.1]:80", "brackets are only for IPv6"],
    [":80", "no address or host name"],
    ["*:80", "wildcard"],
    ["db.*.internal", "wildcard"],
    ["*.", 'after "*."'],
    ["*.plc.local.", 'after "*."'],
    ["under_score.local", "not an IP address, CIDR range or host name"],
    ["-bad.local", "not an IP address, CIDR range or host name"],
    ["fe80::1%eth0", "not an IP address"],
    ["::/96", "mixes"],
  ])("refuses %p (%s)", (text, problem) => {
    let caught: unknown;
    try {
      parseRule(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PolicyRuleError);
    const message = (caught as PolicyRuleError).message;
    expect(message).toStartWith(`invalid rule "${text}": `);
    expect(message).toContain(problem);
    expect((caught as PolicyRuleError).rule).toBe(text);
  });

  it.each([
    ["udp:10.0.0.0/8:53", "udp", "10.0.0.0/8 ports 53-53"],
    ["udp:10.0.0.1", "udp", "10.0.0.1/32 any port"],
    ["udp:[::1]:53", "udp", "::1/128 ports 53-53"],
    ["udp:fd00::/8", "udp", "fd00::/8 any port"],
    ["tls:*.corp.example:443", "tls", "*.corp.example ports 443-443"],
    ["tls:db.internal:5432-5433", "tls", "host db.internal ports 5432-5433"],
  ])("%s names protocol %s", (text, protocol, expected) => {
    const rule = parseRule(text);
    expect(rule.protocol).toBe(protocol);
    expect(summary(rule)).toBe(expected);
    expect(rule.text).toBe(text);
  });

  it.each([
    ["tcp:80", "host tcp ports 80-80"],
    ["fe80::1", "fe80::1/128 any port"],
    ["face:1::2", "face:1::2/128 any port"],
    ["localhost:1-2", "host localhost ports 1-2"],
  ])("%s reads as a rule without a protocol first", (text, expected) => {
    const rule = parseRule(text);
    expect(rule.protocol).toBeUndefined();
    expect(summary(rule)).toBe(expected);
  });

  it.each([
    ["udp:999.1.1.1:53", "not an IPv4 address"],
    ["udp:bad_host", "not an IP address, CIDR range or host name"],
    ["udp:10.0.0.1:0", 'port "0"'],
    ["localhost:99999", 'port "99999"'],
    ["UDP:10.0.0.1", 'port "10.0.0.1"'],
  ])("refuses %p (%s), naming the whole rule", (text, problem) => {
    expect(() => parseRule(text)).toThrow(`invalid rule "${text}": `);
    expect(() => parseRule(text)).toThrow(problem);
  });

  it("accepts every valid port range and keeps its bounds (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 65535 }),
        fc.integer({ min: 1, max: 65535 }),
        (a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          expect(parseRule(`10.0.0.0/8:${low}-${high}`).ports).toEqual({ low, high });
        },
      ),
    );
  });
});
