import { type IpAddress, rangeContains } from "../net/address.ts";
import type { PortRange, Rule } from "./rule.ts";

/** A target as the policy sees it: `host` already normalised, `address` already parsed. */
export interface PolicyTarget {
  readonly host?: string;
  readonly address: IpAddress;
  readonly port: number;
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

export function ruleMatches(rule: Rule, target: PolicyTarget): boolean {
  if (!portMatches(rule.ports, target.port)) return false;
  if (rule.target.kind === "address") return rangeContains(rule.target.range, target.address);
  return hostMatches(rule, target.host);
}
