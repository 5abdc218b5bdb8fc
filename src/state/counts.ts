import { createRateLimiter, type RateLimiter } from "../limits/rate-limit.ts";

/** What the limits say of one more session (or upgrade) under a key. */
export type CountVerdict =
  | "ok"
  | "rate_limit"
  /** The key holds its most already. */
  | "full"
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

/** The limits one key is held to; 0 turns one off. */
export interface CountLimits {
  /** Slots held at once. */
  readonly most: number;
  /** Rate tokens taken at once (the bucket's size). */
  readonly capacity: number;
  /** Rate tokens per second. */
  readonly rate: number;
}

/**
 * Slots and rate tokens per key (`ip:ADDRESS`, `principal:NAME`), asked once per admission: with
 * a shared store one round trip, in process synchronous.
 */
export interface Counts {
  /** A rate token and, when `hold`, a slot under `key`. */
  admit(key: string, limits: CountLimits, hold: boolean): CountVerdict | Promise<CountVerdict>;
  /** A rate token decided in this process alone, at once (a Wisp stream on an admitted connection). */
  admitHere(key: string, limits: CountLimits): CountVerdict;
  /**
   * A slot held without asking (no limit applies to it now): a shared store learns of it at its
   * next renewal, so a limit a reload adds counts it from then on.
   */
  hold(key: string): void;
  /** Gives back a slot `admit` or `hold` held. */
  release(key: string): void;
  /** Slots this process holds under `key` now. */
  held(key: string): number;
  readonly mode: LimitsMode;
  close(): Promise<void>;
}

/**
 * Distinct keys each rate limiter remembers; past it the least recently seen is forgotten (and
 * starts again with a full bucket), so a flood of sources cannot grow memory.
 */
const RATE_LIMIT_KEYS = 100_000;

/** This process's own slots and rate buckets: the whole truth in process, the fallback of a store. */
export interface LocalCounts extends Counts {
  admit(key: string, limits: CountLimits, hold: boolean): CountVerdict;
  /** Keys with slots held. */
  size(): number;
  /** Every key with slots held, for handing to a store. */
  entries(): IterableIterator<[string, number]>;
}

/** The counts kept in this process alone (no `--state`, or a store's own share and fallback). */
export function localCounts(): LocalCounts {
  /** One limiter per distinct (capacity, rate): rules reloaded with new rates start afresh. */
  const limiters = new Map<string, RateLimiter>();
  const held = new Map<string, number>();
  const add = (key: string) => {
    held.set(key, (held.get(key) ?? 0) + 1);
  };
  const takeRate = (key: string, limits: CountLimits): boolean => {
    if (!(limits.rate > 0)) return true;
    const capacity = Math.max(1, limits.capacity || limits.rate);
    const shape = `${capacity}/${limits.rate}`;
    let limiter = limiters.get(shape);
    if (!limiter) {
      limiter = createRateLimiter({
        capacity,
        refillPerSecond: limits.rate,
        maxKeys: RATE_LIMIT_KEYS,
      });
      limiters.set(shape, limiter);
    }
    return limiter.take(key).allowed;
  };
  return {
    mode: "local",
    admit(key, limits, hold) {
      if (!takeRate(key, limits)) return "rate_limit";
      if (!hold) return "ok";
      if (limits.most > 0 && (held.get(key) ?? 0) >= limits.most) return "full";
      add(key);
      return "ok";
    },
    admitHere: (key, limits) => (takeRate(key, limits) ? "ok" : "rate_limit"),
    hold: add,
    release(key) {
      const count = held.get(key);
      if (count === undefined) return;
      if (count <= 1) held.delete(key);
      else held.set(key, count - 1);
    },
    held: (key) => held.get(key) ?? 0,
    size: () => held.size,
    entries: () => held.entries(),
    async close() {},
  };
}
