import { type CountLimits, type Counts, localCounts } from "./counts.ts";

/** What the limits say of one more upgrade (or Wisp stream) from an address. */
export type AddressVerdict =
  | "ok"
  | "rate_limit"
  | "per_ip"
  /** The shared store is unreachable and `--state-fallback refuse` says not to count alone. */
  | "unavailable";

/**
 * `--rate-limit` and `--max-connections-per-ip`, asked once per upgrade: a rate token and, when
 * `hold`, a connection slot for `key` (an address, IPv6 by /64). With a shared store this is one
 * round trip; in process it is synchronous.
 */
export interface AddressLimits {
  admit(key: string, hold: boolean): AddressVerdict | Promise<AddressVerdict>;
  /** A rate token decided in this process alone, at once (a Wisp stream on an admitted connection). */
  admitHere(key: string): AddressVerdict;
  /** Gives back a slot `admit` held. */
  release(key: string): void;
}

export interface AddressLimitSettings {
  /** Upgrades per second per address; 0: no rate limit. */
  readonly rate: number;
  /** Upgrades an address may make at once; 0: one second's worth. */
  readonly burst: number;
  /** Connections at once per address; 0: no limit. */
  readonly maxPerAddress: number;
}

const verdictOf = (verdict: string): AddressVerdict =>
  verdict === "full" ? "per_ip" : (verdict as AddressVerdict);

/** The address limits, counted under `ip:ADDRESS` in `counts` (in process, or the fleet's). */
export function addressLimits(counts: Counts, settings: AddressLimitSettings): AddressLimits {
  const limits: CountLimits = {
    most: settings.maxPerAddress,
    capacity: settings.burst || settings.rate,
    rate: settings.rate,
  };
  return {
    admit(key, hold) {
      const verdict = counts.admit(`ip:${key}`, limits, hold);
      return verdict instanceof Promise ? verdict.then(verdictOf) : verdictOf(verdict);
    },
    admitHere: (key) => verdictOf(counts.admitHere(`ip:${key}`, limits)),
    release: (key) => counts.release(`ip:${key}`),
  };
}

/** The address limits counted in this process alone. */
export function localAddressLimits(settings: AddressLimitSettings): AddressLimits {
  return addressLimits(localCounts(), settings);
}
