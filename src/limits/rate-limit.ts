export interface RateLimitOptions {
  /** Burst size: handshakes a key may make at once. */
  readonly capacity: number;
  readonly refillPerSecond: number;
  /** Keys remembered at most; past it the least recently seen key is forgotten. */
  readonly maxKeys: number;
  /** Milliseconds; for tests. */
  readonly now?: () => number;
}

export type RateDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly retryAfterSeconds: number };

export interface RateLimiter {
  take(key: string): RateDecision;
  readonly size: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per key. Forgetting the least recently seen key when full keeps memory
 * bounded under a flood of distinct keys; the forgotten key starts again with a full bucket,
 * which is what an idle key would have had anyway.
 */
export function createRateLimiter(options: RateLimitOptions): RateLimiter {
  const { capacity, refillPerSecond, maxKeys } = options;
  if (!(capacity >= 1) || !(refillPerSecond > 0) || !Number.isInteger(maxKeys) || maxKeys < 1) {
    throw new RangeError("rate limit: capacity >= 1, refillPerSecond > 0, maxKeys >= 1 needed");
  }
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order; re-inserting on each use keeps the stalest first.
  const buckets = new Map<string, Bucket>();

  return {
    get size() {
      return buckets.size;
    },
    take(key) {
      const at = now();
      let bucket = buckets.get(key);
      if (bucket === undefined) {
        if (buckets.size >= maxKeys) {
          const stalest = buckets.keys().next();
          if (!stalest.done) buckets.delete(stalest.value);
        }
        bucket = { tokens: capacity, at };
      } else {
        buckets.delete(key);
        // A clock that steps back must not mint tokens.
        const elapsed = Math.max(0, at - bucket.at) / 1000;
        bucket.tokens = Math.min(capacity, bucket.tokens + elapsed * refillPerSecond);
        bucket.at = Math.max(at, bucket.at);
      }
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { allowed: true };
      }
      return {
        allowed: false,
        retryAfterSeconds: Math.ceil((1 - bucket.tokens) / refillPerSecond),
      };
    },
  };
}
