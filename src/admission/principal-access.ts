import type { Location } from "../adapters/types.ts";
import {
  type AccessRules,
  type AccessSettings,
  choiceLabel,
  chooseRule,
  type RuleChoice,
  settingsOf,
} from "../auth/access-rules.ts";
import type { Principal } from "../auth/principal.ts";
import type { Policy } from "../policy/policy.ts";
import { type CountLimits, type Counts, type CountVerdict, localCounts } from "../state/counts.ts";

/** Where a session's target is, to check it again when the rules change. */
export interface LeasedTarget {
  readonly protocol: string;
  readonly host: string | undefined;
  readonly location: Location;
}

/**
 * A session's hold on its principal's rule: it counts against `max_sessions` until released, and
 * is revoked when a reloaded rule denies its target.
 */
export interface Lease {
  readonly principal: Principal;
  /** Which rule applied (`rule 2`, its name, `default` or `-`). */
  readonly rule: string;
  readonly settings: AccessSettings;
  /**
   * The target it opened: from now on a reload that denies it revokes the lease. Returns why the
   * rules deny it already, when they were reloaded while it was being opened (else undefined).
   */
  opened(target: LeasedTarget): string | undefined;
  /** The session's close, called when a reloaded rule denies its target. */
  onRevoke(revoke: (reason: string) => void): void;
  release(): void;
}

/** Why the rule refuses a session before its target is resolved. */
export interface RuleRefusal {
  readonly kind: "front_end" | "protocol" | "max_sessions" | "rate" | "revoked" | "unavailable";
  readonly reason: string;
}

export type RuleAdmission =
  | {
      readonly ok: true;
      readonly choice: RuleChoice;
      /** The server's policy narrowed by the rule (the server's own when it sets no targets). */
      readonly policy: Policy;
      /** Counted against max_sessions from now until released. */
      readonly lease: Lease;
    }
  | ({ readonly ok: false; readonly choice: RuleChoice } & RuleRefusal);

/** The access file's rules as admission applies them; `replace` swaps them (a reload). */
export interface PrincipalAccess {
  readonly rules: AccessRules | undefined;
  /**
   * Checks front end, protocol, a revocation, the principal's rate and session count, and takes a
   * lease. Asks the shared store (one round trip) only when the rule sets a rate or a session cap.
   */
  admit(
    principal: Principal,
    frontEnd: string,
    protocol: string,
  ): RuleAdmission | Promise<RuleAdmission>;
  /**
   * New rules for new sessions. Open sessions keep theirs, except that one whose target the new
   * rule (with the server's policy) denies is revoked. Returns how many were.
   */
  replace(rules: AccessRules): number;
  /** Sessions each principal holds now (for tests and metrics). */
  held(name: string): number;
}

/** What a reload checks of an open session: its principal, its target, how to close it. */
interface LiveLease {
  readonly principal: Principal;
  readonly target: LeasedTarget | undefined;
  readonly revoke: ((reason: string) => void) | undefined;
}

export interface PrincipalAccessOptions {
  /** Where `max_sessions` and `rate` are counted: in process (default), or the fleet's store. */
  readonly counts?: Counts;
  /** Until when (ms since the epoch) a principal's new sessions are refused, if they are. */
  readonly revokedUntil?: (name: string) => number | undefined;
}

export function createPrincipalAccess(
  initial: AccessRules | undefined,
  serverPolicy: Policy,
  options: PrincipalAccessOptions = {},
): PrincipalAccess {
  let rules = initial;
  /** Counts reloads, so that a lease taken before one knows its target must be checked again. */
  let generation = 0;
  const store = options.counts ?? localCounts();
  const live = new Set<RuleLease>();
  const policyFor = (choice: RuleChoice): Policy => {
    const targets = settingsOf(choice).targets;
    return targets ? serverPolicy.narrow(targets, choiceLabel(choice)) : serverPolicy;
  };

  /** A lease on the rule, holding a slot in the store that release gives back: one object per session. */
  class RuleLease implements Lease, LiveLease {
    target: LeasedTarget | undefined;
    revoke: ((reason: string) => void) | undefined;
    private released = false;

    constructor(
      readonly principal: Principal,
      readonly rule: string,
      readonly settings: AccessSettings,
      /** The store's key for the principal. */
      private readonly key: string,
      /** The rules' generation the choice was made in. */
      private readonly admittedIn: number,
    ) {}

    opened(target: LeasedTarget): string | undefined {
      this.target = target;
      const now = rules;
      if (this.admittedIn === generation || now === undefined) return undefined;
      return deniedNow(this, now, serverPolicy);
    }

    onRevoke(revoke: (reason: string) => void): void {
      this.revoke = revoke;
    }

    release(): void {
      if (this.released) return;
      this.released = true;
      live.delete(this);
      store.release(this.key);
    }
  }

  const lease = (
    principal: Principal,
    choice: RuleChoice,
    key: string,
    admittedIn: number,
  ): RuleAdmission => {
    const entry = new RuleLease(
      principal,
      choiceLabel(choice),
      settingsOf(choice),
      key,
      admittedIn,
    );
    live.add(entry);
    return { ok: true, choice, policy: policyFor(choice), lease: entry };
  };

  return {
    get rules() {
      return rules;
    },
    admit(principal, frontEnd, protocol) {
      const chosenIn = generation;
      const choice: RuleChoice = rules ? chooseRule(rules, principal) : NO_ACCESS_FILE;
      const settings = settingsOf(choice);
      const label = choiceLabel(choice);
      if (settings.frontEnds && !settings.frontEnds.includes(frontEnd)) {
        return {
          ok: false,
          choice,
          kind: "front_end",
          reason: `${label} does not allow front end ${frontEnd}`,
        };
      }
      if (settings.protocols && !settings.protocols.includes(protocol)) {
        return {
          ok: false,
          choice,
          kind: "protocol",
          reason: `${label} does not allow protocol ${protocol}`,
        };
      }
      const name = principal.name;
      const until = options.revokedUntil?.(name);
      if (until !== undefined) {
        return {
          ok: false,
          choice,
          kind: "revoked",
          reason: `${name}'s sessions are refused until ${new Date(until).toISOString()} (ended by an operator)`,
        };
      }
      const max = settings.maxSessions;
      const rate = settings.rate;
      const key = `principal:${name}`;
      if (max === undefined && rate === undefined) {
        // Counted all the same, so that a cap a reload adds holds the sessions open now.
        store.hold(key);
        return lease(principal, choice, key, chosenIn);
      }
      const limits: CountLimits = {
        most: max ?? 0,
        capacity: Math.max(1, rate ?? 0),
        rate: rate ?? 0,
      };
      const decide = (verdict: CountVerdict): RuleAdmission => {
        if (verdict !== "ok") {
          return { ok: false, choice, ...limitRefusal(verdict, name, label, settings) };
        }
        if (max === undefined) store.hold(key);
        return lease(principal, choice, key, chosenIn);
      };
      const verdict = store.admit(key, limits, max !== undefined);
      return verdict instanceof Promise ? verdict.then(decide) : decide(verdict);
    },
    replace(next) {
      rules = next;
      generation++;
      let revoked = 0;
      for (const entry of [...live]) {
        const reason = deniedNow(entry, next, serverPolicy);
        if (reason === undefined || entry.revoke === undefined) continue;
        revoked++;
        entry.revoke(reason);
      }
      return revoked;
    },
    held: (name) => store.held(`principal:${name}`),
  };
}

const NO_ACCESS_FILE: RuleChoice = { kind: "none", why: "no access file" };

/** What a store's verdict against a rule's limits tells the client and the log. */
function limitRefusal(
  verdict: Exclude<CountVerdict, "ok">,
  name: string,
  label: string,
  settings: AccessSettings,
): RuleRefusal {
  switch (verdict) {
    case "full":
      return {
        kind: "max_sessions",
        reason: `${name} holds ${settings.maxSessions} sessions, the most ${label} allows`,
      };
    case "rate_limit":
      return {
        kind: "rate",
        reason: `${name} exceeds ${settings.rate} sessions per second (${label})`,
      };
    case "unavailable":
      return {
        kind: "unavailable",
        reason: `the shared state is unreachable, so ${name}'s ${label} limits cannot be counted`,
      };
  }
}

/** Why the new rules deny an open session's target (or its protocol), or undefined. */
function deniedNow(entry: LiveLease, rules: AccessRules, serverPolicy: Policy): string | undefined {
  if (entry.target === undefined) return undefined;
  const choice = chooseRule(rules, entry.principal);
  const settings = settingsOf(choice);
  const { protocol, host, location } = entry.target;
  if (settings.protocols && !settings.protocols.includes(protocol)) {
    return `${choiceLabel(choice)} no longer allows protocol ${protocol}`;
  }
  // A rule's allow and deny name network targets; a path target answers to `protocols` only.
  if (location.kind !== "network" || !settings.targets) return undefined;
  const policy = serverPolicy.narrow(settings.targets, choiceLabel(choice));
  const decision = policy.check({
    ...(host !== undefined && host !== location.address ? { host } : {}),
    address: location.address,
    port: location.port,
    protocol,
  });
  return decision.allowed ? undefined : decision.reason;
}
