import { type IpAddress, rangeContains } from "../net/address.ts";
import type { PortRange, Rule } from "./rule.ts";

/** A target as the policy sees it: `host` already normalised, `address` already parsed. */
export interface PolicyTarget {
  readonly host?: string;
  readonly address: IpAddress;
  readonly port: number;
  /** The session's protocol; absent in checks made without one. */
  readonly protocol?: string;
}

/** Which way a rule's protocol counts for a check that names no protocol: fail closed either way. */
export type RuleRole = "allow" | "deny";

/**
 * A rule naming a protocol applies to that protocol only. A check without a protocol is matched
 * by such a rule when it denies, never when it allows.
 */
export function protocolMatches(rule: Rule, protocol: string | undefined, role: RuleRole): boolean {
  if (rule.protocol === undefined) return true;
  if (protocol === undefined) return role === "deny";
  return rule.protocol === protocol;
}

export function portMatches(ports: PortRange | undefined, port: number): boolean {
  return ports === undefined || (port >= ports.low && port <= ports.high);
}

export function hostMatches(rule: Rule, host: string | undefined): boolean {
  if (host === undefined) return false;
  switch (rule.target.kind) {
    case "host":
      return host === rule.target.name;
    case "host-suffix":
      return host.endsWith(`.${rule.target.suffix}`);
    case "address":
      return false;
  }
}

export function ruleMatches(rule: Rule, target: PolicyTarget, role: RuleRole): boolean {
  if (!portMatches(rule.ports, target.port)) return false;
  if (!protocolMatches(rule, target.protocol, role)) return false;
  if (rule.target.kind === "address") return rangeContains(rule.target.range, target.address);
  return hostMatches(rule, target.host);
}
