import type { ProxyProtocolSetting } from "../net/proxy-protocol.ts";
import type { PolicyRules } from "../policy/policy.ts";
import type { Principal } from "./principal.ts";

/** What one access rule (or the `[default]` table) sets; every field is optional. */
export interface AccessSettings {
  /** Targets: intersected with the server's policy (a rule never widens it). */
  readonly targets?: PolicyRules;
  /** Adapter names the principal may use. */
  readonly protocols?: readonly string[];
  /** Front ends the principal may come in by. */
  readonly frontEnds?: readonly string[];
  /** Sessions at once for the principal (all its sessions, on every front end). */
  readonly maxSessions?: number;
  /** Sessions (upgrades and Wisp streams) per second for the principal. */
  readonly rate?: number;
  /** Seconds: a session of the principal lasts at most this long (0: no limit of the rule). */
  readonly maxLifetime?: number;
  /** Seconds without a byte either way before the session is closed. */
  readonly idleTimeout?: number;
  /** Bytes per second for the principal as a whole, client to target and back. */
  readonly bandwidthUp?: number;
  readonly bandwidthDown?: number;
  /** Bytes per second for each session of the principal. */
  readonly sessionBandwidthUp?: number;
  readonly sessionBandwidthDown?: number;
  /** Tickets of these principals must be single use (read by the ticket verifier). */
  readonly singleUseTickets?: boolean;
  /**
   * A PROXY protocol header to the principal's targets: wins over a ticket's claim and the server
   * default; a route's or token-file entry's own setting wins over it.
   */
  readonly proxyProtocol?: ProxyProtocolSetting;
}

/** A test of one claim: the claim equals the value, or (an array claim) contains it. */
export interface ClaimTest {
  readonly claim: string;
  /** Any of these values passes. */
  readonly values: readonly string[];
}

export interface AccessRule extends AccessSettings {
  /** `rule N` (1-based, in file order) or the rule's `name`. */
  readonly label: string;
  /** The file line of its `[[rule]]` header. */
  readonly line: number;
  /** Exact names or globs (`*` any run of characters, `?` one); absent: any principal. */
  readonly principals?: readonly string[];
  /** Every test must pass; absent: no claim is tested. */
  readonly claims?: readonly ClaimTest[];
}

/** The loaded access file. */
export interface AccessRules {
  readonly rules: readonly AccessRule[];
  /** For principals no rule matches; absent: the server's policy and limits as they are. */
  readonly fallback: AccessSettings | undefined;
  /** Principal names the file names literally (no glob): each gets its own metrics label. */
  readonly named: ReadonlySet<string>;
}

/** Which rule applies to a principal, and why. */
export type RuleChoice =
  | { readonly kind: "rule"; readonly rule: AccessRule; readonly why: string }
  | { readonly kind: "default"; readonly settings: AccessSettings; readonly why: string }
  | { readonly kind: "none"; readonly why: string };

export function globMatches(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === name;
  const source = pattern
    .split("")
    .map((char) =>
      char === "*" ? ".*" : char === "?" ? "." : char.replace(/[.+^${}()|[\]\\]/g, "\\$&"),
    )
    .join("");
  return new RegExp(`^${source}$`, "s").test(name);
}

function claimPasses(test: ClaimTest, claims: Principal["claims"]): boolean {
  const value = claims?.[test.claim];
  const held = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return held.some((item) => test.values.includes(String(item)));
}

/** Why a rule matches the principal, or undefined when it does not. */
function matchReason(rule: AccessRule, principal: Principal): string | undefined {
  const reasons: string[] = [];
  if (rule.principals) {
    const pattern = rule.principals.find((p) => globMatches(p, principal.name));
    if (pattern === undefined) return undefined;
    reasons.push(
      pattern === principal.name ? `names ${pattern}` : `${pattern} matches ${principal.name}`,
    );
  }
  for (const test of rule.claims ?? []) {
    if (!claimPasses(test, principal.claims)) return undefined;
    reasons.push(`claim ${test.claim} holds ${test.values.join(" or ")}`);
  }
  return reasons.join(", ");
}

/** First match wins; then `[default]`; then nothing (the server's policy and limits). */
export function chooseRule(rules: AccessRules, principal: Principal): RuleChoice {
  for (const rule of rules.rules) {
    const reason = matchReason(rule, principal);
    if (reason !== undefined) {
      return { kind: "rule", rule, why: `${rule.label} (line ${rule.line}) ${reason}` };
    }
  }
  if (rules.fallback) {
    return { kind: "default", settings: rules.fallback, why: "no rule matches: [default]" };
  }
  return { kind: "none", why: "no rule matches and there is no [default]" };
}

/** The settings a choice applies (none: empty, the server's own). */
export function settingsOf(choice: RuleChoice): AccessSettings {
  return choice.kind === "rule" ? choice.rule : choice.kind === "default" ? choice.settings : {};
}

/**
 * Why the principal's tickets must be single use (its rule, or `[default]`, sets
 * `single_use_tickets = true`), for the log; undefined: they may be reused.
 */
export function singleUseRule(rules: AccessRules, principal: Principal): string | undefined {
  const choice = chooseRule(rules, principal);
  if (settingsOf(choice).singleUseTickets !== true) return undefined;
  return choice.kind === "rule"
    ? `access ${choice.rule.label} (line ${choice.rule.line})`
    : "access [default]";
}

/** The name a choice goes by in logs. */
export function choiceLabel(choice: RuleChoice): string {
  return choice.kind === "rule" ? choice.rule.label : choice.kind === "default" ? "default" : "-";
}
