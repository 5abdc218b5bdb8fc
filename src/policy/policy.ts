import { embeddedIPv4, parseAddress } from "../net/address.ts";
import { normaliseHostName } from "../net/host-name.ts";
import { builtinDeniedClass, reopensBuiltin } from "./builtin-deny.ts";
import type { Decision } from "./decision.ts";
import { DecisionMemo } from "./decision-memo.ts";
import {
  hostMatches,
  type PolicyTarget,
  portMatches,
  protocolMatches,
  type RuleRole,
  ruleMatches,
} from "./match.ts";
import type { Rule } from "./rule.ts";

export { normaliseAddress } from "../net/address.ts";

export interface PolicyRules {
  readonly allow: readonly Rule[];
  readonly deny: readonly Rule[];
}

export interface TargetToCheck {
  /** The host name as the client asked for it, if it asked for a name. */
  readonly host?: string;
  readonly address: string;
  readonly port: number;
  /** The session's protocol, for rules that name one (`udp:10.0.0.0/8:53`). */
  readonly protocol?: string;
}

export interface Policy {
  check(target: TargetToCheck): Decision;
  /** Every address the proxy might use must pass; the first denial is returned. */
  checkAll(
    host: string | undefined,
    addresses: readonly string[],
    port: number,
    protocol?: string,
  ): Decision;
  /**
   * What can be decided from the name alone, before resolving it, so a denied name is never
   * looked up. Passing it is not enough: checkAll must still pass on the resolved addresses.
   */
  checkHost(host: string, port: number, protocol?: string): Decision;
  /** Only targets both this policy and the ticket's `allow` rules allow. */
  intersect(ticketRules: readonly Rule[]): Policy;
  /**
   * Only targets this policy allows and an access rule's `allow` (none: any) and `deny` pass too:
   * a rule narrows, never widens (it reopens no built-in denied class either). `who` names it.
   */
  narrow(rules: PolicyRules, who: string): Policy;
}

interface Layer {
  check(target: PolicyTarget): Decision;
  checkHost(host: string, port: number, protocol: string | undefined): Decision;
}

/** Whether a rule matches a host name alone (before resolution), for its role. */
function nameMatches(
  rule: Rule,
  host: string,
  port: number,
  protocol: string | undefined,
  role: RuleRole,
): boolean {
  return (
    portMatches(rule.ports, port) &&
    protocolMatches(rule, protocol, role) &&
    hostMatches(rule, host)
  );
}

const ALLOWED: Decision = { allowed: true };

function deny(reason: string): Decision {
  return { allowed: false, reason };
}

export function createPolicy(rules: PolicyRules): Policy {
  return layeredPolicy([serverLayer(rules)]);
}

function serverLayer({ allow, deny: denyRules }: PolicyRules): Layer {
  const allowList = [...allow];
  const denyList = [...denyRules];
  const mayNeedAddress = allowList.some((rule) => rule.target.kind === "address");
  return {
    check(target) {
      const denied = firstMatch(denyList, target, "deny");
      if (denied) return deny(`denied by rule ${denied.text}`);
      const builtin = builtinDeniedClass(target.address);
      if (builtin) {
        const reopened = allowList.some(
          (rule) =>
            rule.target.kind === "address" &&
            reopensBuiltin(rule.target.range, builtin) &&
            ruleMatches(rule, target, "allow"),
        );
        if (!reopened) return deny(`${target.address.toString()} is a ${builtin.name}`);
        return ALLOWED;
      }
      if (allowList.length === 0 || allowList.some((rule) => ruleMatches(rule, target, "allow"))) {
        return ALLOWED;
      }
      return deny(`${describe(target)} is not allowed by any allow rule`);
    },
    checkHost(host, port, protocol) {
      const denied = denyList.find((rule) => nameMatches(rule, host, port, protocol, "deny"));
      if (denied) return deny(`denied by rule ${denied.text}`);
      const allowed = (rule: Rule) => nameMatches(rule, host, port, protocol, "allow");
      if (allowList.length === 0 || mayNeedAddress || allowList.some(allowed)) return ALLOWED;
      return deny(`${host}:${port} is not allowed by any allow rule`);
    },
  };
}

function ticketLayer(rules: readonly Rule[]): Layer {
  const allowList = [...rules];
  const mayNeedAddress = allowList.some((rule) => rule.target.kind === "address");
  return {
    check(target) {
      if (allowList.some((rule) => ruleMatches(rule, target, "allow"))) return ALLOWED;
      return deny(`${describe(target)} is not allowed by the ticket`);
    },
    checkHost(host, port, protocol) {
      const allowed =
        mayNeedAddress ||
        allowList.some((rule) => nameMatches(rule, host, port, protocol, "allow"));
      return allowed ? ALLOWED : deny(`${host}:${port} is not allowed by the ticket`);
    },
  };
}

function ruleLayer({ allow, deny: denyRules }: PolicyRules, who: string): Layer {
  const allowList = [...allow];
  const denyList = [...denyRules];
  const mayNeedAddress = allowList.some((rule) => rule.target.kind === "address");
  return {
    check(target) {
      const denied = firstMatch(denyList, target, "deny");
      if (denied) return deny(`denied by ${who}'s rule ${denied.text}`);
      if (allowList.length === 0 || allowList.some((rule) => ruleMatches(rule, target, "allow"))) {
        return ALLOWED;
      }
      return deny(`${describe(target)} is not allowed by ${who}`);
    },
    checkHost(host, port, protocol) {
      const denied = denyList.find((rule) => nameMatches(rule, host, port, protocol, "deny"));
      if (denied) return deny(`denied by ${who}'s rule ${denied.text}`);
      const allowed = (rule: Rule) => nameMatches(rule, host, port, protocol, "allow");
      if (allowList.length === 0 || mayNeedAddress || allowList.some(allowed)) return ALLOWED;
      return deny(`${host}:${port} is not allowed by ${who}`);
    },
  };
}

function describe(target: PolicyTarget): string {
  const address = target.address.toString();
  const where = target.address.kind() === "ipv6" ? `[${address}]` : address;
  return target.host === undefined
    ? `${where}:${target.port}`
    : `${target.host} (${where}):${target.port}`;
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** The first rule of `rules` that matches `target` in `role` (a loop: no callback per check). */
function firstMatch(
  rules: readonly Rule[],
  target: PolicyTarget,
  role: RuleRole,
): Rule | undefined {
  for (const rule of rules) if (ruleMatches(rule, target, role)) return rule;
  return undefined;
}

/** The first layer's denial of `target`, or ALLOWED. */
function checkLayers(layers: readonly Layer[], target: PolicyTarget): Decision {
  for (const layer of layers) {
    const decision = layer.check(target);
    if (!decision.allowed) return decision;
  }
  return ALLOWED;
}

function layeredPolicy(layers: readonly Layer[]): Policy {
  let literals: DecisionMemo | undefined;
  const check = (target: TargetToCheck): Decision => {
    if (target.host !== undefined) return decide(target);
    const { protocol, address, port } = target;
    const known = literals?.get(protocol, address, port);
    if (known) return known;
    const decision = decide(target);
    literals ??= new DecisionMemo();
    literals.set(protocol, address, port, decision);
    return decision;
  };

  const decide = (target: TargetToCheck): Decision => {
    if (!validPort(target.port)) return deny(`port ${target.port} is not 1-65535`);
    const address = parseAddress(target.address);
    if (address === null) return deny(`"${target.address}" is not an IP address`);
    let host: string | undefined;
    if (target.host !== undefined) {
      const name = normaliseHostName(target.host);
      if (name === null) return deny(`"${target.host}" is not a valid host name`);
      host = name;
    }
    const normalised: PolicyTarget = {
      host,
      address,
      port: target.port,
      protocol: target.protocol,
    };
    const decision = checkLayers(layers, normalised);
    // Through a translator or relay the connection ends at the embedded IPv4 address: it must pass too.
    const carried = embeddedIPv4(address);
    if (!decision.allowed || carried === undefined) return decision;
    return checkLayers(layers, { ...normalised, address: carried });
  };

  return {
    check,
    checkAll(host, addresses, port, protocol) {
      // An empty list would pass vacuously; failing closed keeps a broken resolver harmless.
      if (addresses.length === 0) return deny("no address to check");
      for (const address of addresses) {
        const decision = check({ host, address, port, protocol });
        if (!decision.allowed) return decision;
      }
      return ALLOWED;
    },
    checkHost(host, port, protocol) {
      if (!validPort(port)) return deny(`port ${port} is not 1-65535`);
      const name = normaliseHostName(host);
      if (name === null) return deny(`"${host}" is not a valid host name`);
      for (const layer of layers) {
        const decision = layer.checkHost(name, port, protocol);
        if (!decision.allowed) return decision;
      }
      return ALLOWED;
    },
    intersect(ticketRules) {
      return layeredPolicy([...layers, ticketLayer(ticketRules)]);
    },
    narrow(rules, who) {
      return layeredPolicy([...layers, ruleLayer(rules, who)]);
    },
  };
}
