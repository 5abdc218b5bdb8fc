import { embeddedIPv4, parseAddress } from "../net/address.ts";
import { normaliseHostName } from "../net/host-name.ts";
import { builtinDeniedClass, reopensBuiltin } from "./builtin-deny.ts";
import { hostMatches, type PolicyTarget, portMatches, ruleMatches } from "./match.ts";
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
}

/**
 * `reason` names the rule or class that decided, for the log. It reveals the server's
 * rules, so the server may prefer a generic text towards the client.
 */
export type Decision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: string };

export interface Policy {
  check(target: TargetToCheck): Decision;
  /** Every address the proxy might use must pass; the first denial is returned. */
  checkAll(host: string | undefined, addresses: readonly string[], port: number): Decision;
  /**
   * What can be decided from the name alone, before resolving it, so a denied name is never
   * looked up. Passing it is not enough: checkAll must still pass on the resolved addresses.
   */
  checkHost(host: string, port: number): Decision;
  /** Only targets both this policy and the ticket's `allow` rules allow. */
  intersect(ticketRules: readonly Rule[]): Policy;
}

interface Layer {
  check(target: PolicyTarget): Decision;
  checkHost(host: string, port: number): Decision;
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
      const denied = denyList.find((rule) => ruleMatches(rule, target));
      if (denied) return deny(`denied by rule ${denied.text}`);
      const builtin = builtinDeniedClass(target.address);
      if (builtin) {
        const reopened = allowList.some(
          (rule) =>
            rule.target.kind === "address" &&
            reopensBuiltin(rule.target.range, builtin) &&
            ruleMatches(rule, target),
        );
        if (!reopened) return deny(`${target.address.toString()} is a ${builtin.name}`);
        return ALLOWED;
      }
      if (allowList.length === 0 || allowList.some((rule) => ruleMatches(rule, target))) {
        return ALLOWED;
      }
      return deny(`${describe(target)} is not allowed by any allow rule`);
    },
    checkHost(host, port) {
      const matchesName = (rule: Rule) => portMatches(rule.ports, port) && hostMatches(rule, host);
      const denied = denyList.find(matchesName);
      if (denied) return deny(`denied by rule ${denied.text}`);
      if (allowList.length === 0 || mayNeedAddress || allowList.some(matchesName)) return ALLOWED;
      return deny(`${host}:${port} is not allowed by any allow rule`);
    },
  };
}

function ticketLayer(rules: readonly Rule[]): Layer {
  const allowList = [...rules];
  const mayNeedAddress = allowList.some((rule) => rule.target.kind === "address");
  return {
    check(target) {
      if (allowList.some((rule) => ruleMatches(rule, target))) return ALLOWED;
      return deny(`${describe(target)} is not allowed by the ticket`);
    },
    checkHost(host, port) {
      const allowed =
        mayNeedAddress ||
        allowList.some((rule) => portMatches(rule.ports, port) && hostMatches(rule, host));
      return allowed ? ALLOWED : deny(`${host}:${port} is not allowed by the ticket`);
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

function layeredPolicy(layers: readonly Layer[]): Policy {
  const firstDenial = (decide: (layer: Layer) => Decision): Decision => {
    for (const layer of layers) {
      const decision = decide(layer);
      if (!decision.allowed) return decision;
    }
    return ALLOWED;
  };

  const check = (target: TargetToCheck): Decision => {
    if (!validPort(target.port)) return deny(`port ${target.port} is not 1-65535`);
    const address = parseAddress(target.address);
    if (address === null) return deny(`"${target.address}" is not an IP address`);
    let host: string | undefined;
    if (target.host !== undefined) {
      const name = normaliseHostName(target.host);
      if (name === null) return deny(`"${target.host}" is not a valid host name`);
      host = name;
    }
    const normalised: PolicyTarget = { host, address, port: target.port };
    const decision = firstDenial((layer) => layer.check(normalised));
    // Through a translator or relay the connection ends at the embedded IPv4 address: it must pass too.
    const carried = embeddedIPv4(address);
    if (!decision.allowed || carried === undefined) return decision;
    return firstDenial((layer) => layer.check({ ...normalised, address: carried }));
  };

  return {
    check,
    checkAll(host, addresses, port) {
      // An empty list would pass vacuously; failing closed keeps a broken resolver harmless.
      if (addresses.length === 0) return deny("no address to check");
      for (const address of addresses) {
        const decision = check({ host, address, port });
        if (!decision.allowed) return decision;
      }
      return ALLOWED;
    },
    checkHost(host, port) {
      if (!validPort(port)) return deny(`port ${port} is not 1-65535`);
      const name = normaliseHostName(host);
      if (name === null) return deny(`"${host}" is not a valid host name`);
      return firstDenial((layer) => layer.checkHost(name, port));
    },
    intersect(ticketRules) {
      return layeredPolicy([...layers, ticketLayer(ticketRules)]);
    },
  };
}
