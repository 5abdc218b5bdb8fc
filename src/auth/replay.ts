/**
 * Remembers single-use tickets' `jti` until they expire. An interface, so that a store shared
 * by a fleet of proxies can replace the in-memory one.
 */
export interface ReplayGuard {
  /**
   * Claims `jti` until `expiresAt` (milliseconds since the epoch): "claimed" the first time,
   * "replayed" after that, "full" when the guard cannot remember one more.
   */
  claim(jti: string, expiresAt: number): Promise<ReplayClaim>;
}

export type ReplayClaim = "claimed" | "replayed" | "full";

export interface MemoryReplayOptions {
  /** Most ticket ids remembered at once; a ticket beyond it is refused, not let through. */
  readonly maxEntries: number;
  /** For tests. */
  readonly now?: () => number;
}

/** The default cap: 1 million ids of up to 256 bytes stays within a few hundred MB at worst. */
export const DEFAULT_REPLAY_ENTRIES = 1_000_000;

/**
 * Ids kept in a Map until their ticket expires: memory is bounded by how many unexpired tickets
 * were used, and by `maxEntries`. Expired ids are swept when the map is full and, in passing,
 * from its oldest end (a Map iterates in insertion order, so ids claimed long ago come first).
 */
export function createMemoryReplayGuard({
  maxEntries,
  now = Date.now,
}: MemoryReplayOptions): ReplayGuard & { readonly size: number } {
  const seen = new Map<string, number>();
  const sweepOldest = (time: number, budget: number): void => {
    for (const [jti, expiresAt] of seen) {
      if (budget-- <= 0) return;
      if (expiresAt <= time) seen.delete(jti);
    }
  };
  // When full, the whole map is swept at most once per expiry of its soonest id: a flood of
  // tickets against a full guard costs a lookup each, not a sweep each.
  let noneExpiresBefore = 0;
  const sweepAll = (time: number): void => {
    if (time < noneExpiresBefore) return;
    let soonest = Number.POSITIVE_INFINITY;
    for (const [jti, expiresAt] of seen) {
      if (expiresAt <= time) seen.delete(jti);
      else soonest = Math.min(soonest, expiresAt);
    }
    noneExpiresBefore = soonest;
  };
  return {
    get size() {
      return seen.size;
    },
    async claim(jti, expiresAt) {
      const time = now();
      sweepOldest(time, 8);
      const known = seen.get(jti);
      if (known !== undefined && known > time) return "replayed";
      if (known === undefined && seen.size >= maxEntries) {
        sweepAll(time);
        if (seen.size >= maxEntries) return "full";
      }
      seen.delete(jti);
      seen.set(jti, expiresAt);
      noneExpiresBefore = Math.min(noneExpiresBefore, expiresAt);
      return "claimed";
    },
  };
}
