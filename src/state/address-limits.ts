import { type ConnectionCounter, createConnectionCounter } from "../limits/per-ip.ts";
import { createRateLimiter, type RateLimiter } from "../limits/rate-limit.ts";

/** What the limits say of one more upgrade (or Wisp stream) from an address. */
export type AddressVerdict =
  | "ok"
  | "rate_limit"
  | "per_ip"
  /** The shared store is unreachable and `--state-fallback refuse` says not to count alone. */
  | "unavailable";

/** Where the counts behind the verdicts live now. */
export type LimitsMode =
  /** In this process (no `--state`). */
  | "local"
  /** In the shared store: every instance and worker counts together. */
  | "fleet"
  /** The shared store is unreachable: this process counts alone until it is back. */
  | "degraded";

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
  readonly mode: LimitsMode;
  close(): Promise<void>;
}

export interface AddressLimitSettings {
  /** Upgrades per second per address; 0: no rate limit. */
  readonly rate: number;
  /** Upgrades an address may make at once; 0: one second's worth. */
  readonly burst: number;
  /** Connections at once per address; 0: no limit. */
  readonly maxPerAddress: number;
}

/**
 * Distinct client addresses the rate limiter remembers; past it the least recently seen is
 * forgotten (and starts again with a full bucket), so a flood of sources cannot grow memory.
 */
const RATE_LIMIT_KEYS = 100_000;

/** The limits counted in this process alone. */
export function localAddressLimits(settings: AddressLimitSettings): AddressLimits & {
  /** Slots held per address now, for handing over to a shared store. */
  held(): ReadonlyMap<string, number>;
} {
  const rate: RateLimiter | undefined =
    settings.rate > 0
      ? createRateLimiter({
          capacity: settings.burst || settings.rate,
          refillPerSecond: settings.rate,
          maxKeys: RATE_LIMIT_KEYS,
        })
      : undefined;
  const counter: ConnectionCounter | undefined =
    settings.maxPerAddress > 0 ? createConnectionCounter(settings.maxPerAddress) : undefined;
  /** The release of each slot held, per address (a counter's releases are one-shot). */
  const releases = new Map<string, (() => void)[]>();
  const held = new Map<string, number>();
  return {
    mode: "local",
    admit(key, hold) {
      if (rate && !rate.take(key).allowed) return "rate_limit";
      if (!hold) return "ok";
      if (counter) {
        const release = counter.tryAcquire(key);
        if (release === null) return "per_ip";
        const list = releases.get(key);
        if (list) list.push(release);
        else releases.set(key, [release]);
      }
      held.set(key, (held.get(key) ?? 0) + 1);
      return "ok";
    },
    release(key) {
      const count = held.get(key);
      if (count === undefined) return;
      if (count <= 1) held.delete(key);
      else held.set(key, count - 1);
      const list = releases.get(key);
      list?.pop()?.();
      if (list?.length === 0) releases.delete(key);
    },
    admitHere(key) {
      return rate && !rate.take(key).allowed ? "rate_limit" : "ok";
    },
    held: () => held,
    async close() {},
  };
}
