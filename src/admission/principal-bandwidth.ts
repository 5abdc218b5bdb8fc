import { chooseRule, settingsOf } from "../auth/access-rules.ts";
import type { Principal } from "../auth/principal.ts";
import type { PrincipalAccess } from "./principal-access.ts";

/**
 * The limits one session's bytes are under, each direction under all of its own at once (the
 * principal's shared limit, and one of the session's own). `up`: client → target.
 */
export interface BandwidthLimits<Limit> {
  readonly up: readonly Limit[];
  readonly down: readonly Limit[];
}

/** Principals whose shared limits are remembered before those holding no session are dropped. */
const PRUNE_ABOVE = 10_000;

/**
 * `ServerDeps.bandwidthFor` from the access rules: `bandwidth_up`/`bandwidth_down` are one limit
 * per principal, shared by all its sessions (the same object in each session's list), and
 * `session_bandwidth_up`/`_down` one per session. The rule is the one in force when the session
 * starts proxying. `create` makes a limit at a rate in bytes per second (the bandwidth module's
 * token bucket); this module does not depend on it.
 */
export function principalBandwidth<Limit>(
  access: PrincipalAccess,
  create: (bytesPerSecond: number) => Limit,
): (principal: Principal, frontEnd: string) => BandwidthLimits<Limit> | undefined {
  /** `direction name rate` → the principal's shared limit (a reload with a new rate starts a new one). */
  const shared = new Map<string, { readonly name: string; readonly limit: Limit }>();
  const sharedLimit = (direction: string, name: string, rate: number): Limit => {
    const key = `${direction} ${rate} ${name}`;
    let entry = shared.get(key);
    if (!entry) {
      if (shared.size >= PRUNE_ABOVE) {
        for (const [old, value] of shared) if (access.held(value.name) === 0) shared.delete(old);
      }
      entry = { name, limit: create(rate) };
      shared.set(key, entry);
    }
    return entry.limit;
  };
  return (principal) => {
    const rules = access.rules;
    if (!rules) return undefined;
    const settings = settingsOf(chooseRule(rules, principal));
    const up: Limit[] = [];
    const down: Limit[] = [];
    if (settings.bandwidthUp) up.push(sharedLimit("up", principal.name, settings.bandwidthUp));
    if (settings.bandwidthDown) {
      down.push(sharedLimit("down", principal.name, settings.bandwidthDown));
    }
    if (settings.sessionBandwidthUp) up.push(create(settings.sessionBandwidthUp));
    if (settings.sessionBandwidthDown) down.push(create(settings.sessionBandwidthDown));
    return up.length + down.length > 0 ? { up, down } : undefined;
  };
}
