import type { RedisClient } from "bun";
import type { Logger } from "../log/logger.ts";
import { type Counts, type CountVerdict, type LimitsMode, localCounts } from "./counts.ts";
import { COMMAND_TIMEOUT_MS, redisConnection } from "./redis-connection.ts";
import { ADMIT_SCRIPT, RELEASE_SCRIPT } from "./scripts.ts";

/** What the store needs besides the limits. */
export interface RedisCountsOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…`, the password already in it. */
  readonly url: string;
  /** PEM CAs a `rediss://` server may chain to, besides the system's. */
  readonly ca?: string | undefined;
  /** Names this process in the store; unique per process. */
  readonly instance: string;
  /** Milliseconds an instance's counts outlive its last renewal (a dead instance stops counting after it). */
  readonly leaseMs: number;
  /** Key prefix, so several deployments can share one Redis. */
  readonly prefix: string;
  /** When the store is unreachable: count in this process alone (`local`), or refuse (`refuse`). */
  readonly fallback: "local" | "refuse";
  readonly logger: Logger;
  /** Told when the mode changes (metrics, readiness). */
  readonly onMode?: (mode: LimitsMode) => void;
}

const ANSWERS: Record<number, CountVerdict> = { 0: "ok", 1: "rate_limit", 2: "full" };

/** How long the resync after a (re)connection may take, for `keys` keys held. */
export const resyncBoundMs = (keys: number): number => COMMAND_TIMEOUT_MS + Math.ceil(keys / 10);

/**
 * Slots and rate tokens counted across every instance sharing one Redis, in one round trip per
 * admission (a script that takes the rate token, drops the counts of instances whose lease has run
 * out, and holds a slot if there is room).
 *
 * Each instance keeps its own counts here too: it renews a lease on them every third of the
 * lease and rewrites them, so counts heal after a Redis restart and a dead instance's vanish once
 * its lease runs out. While Redis is unreachable the same counts decide alone (or the admission is
 * refused, with `fallback: "refuse"`); nothing is queued for Redis meanwhile.
 */
export function redisCounts(options: RedisCountsOptions): Counts & { connected(): Promise<void> } {
  const { logger, prefix, instance } = options;
  /** Slots this instance holds per key, whoever decided them, and the fallback's rate buckets. */
  const own = localCounts();
  const aliveKey = `${prefix}:alive:${instance}`;
  const connKey = (key: string) => `${prefix}:conn:${key}`;
  const rateKey = (key: string) => `${prefix}:rate:${key}`;
  let mode: LimitsMode = "degraded";
  let renewTimer: ReturnType<typeof setInterval> | undefined;

  /** Whether the mode has been told once: a store that is down from the start is said so too. */
  let told = false;
  const setMode = (next: LimitsMode, why?: string) => {
    if (mode === next && told) return;
    told = true;
    mode = next;
    if (next === "fleet") logger.info("state: connected to Redis; limits are fleet-wide");
    else {
      logger.warn(
        `state: Redis unreachable${why ? ` (${why})` : ""}; ` +
          (options.fallback === "local"
            ? "limits count in this process alone until it is back"
            : "upgrades are refused until it is back"),
      );
    }
    options.onMode?.(next);
  };

  /** The lease on this instance's counts, and the counts themselves (they heal what drifted). */
  const renew = async (redis: RedisClient) => {
    const writes: Promise<unknown>[] = [
      redis.send("SET", [aliveKey, "1", "PX", String(options.leaseMs)]),
    ];
    for (const [key, count] of own.entries()) {
      writes.push(redis.send("HSET", [connKey(key), instance, String(count)]));
      writes.push(redis.send("PEXPIRE", [connKey(key), String(options.leaseMs * 3)]));
    }
    await Promise.all(writes);
  };

  const connection = redisConnection({
    url: options.url,
    ca: options.ca,
    // A resync writes every key this instance holds: its bound grows with them (pipelined, 5–12 µs
    // a key on a loaded 2-core host; 100 µs allowed), so a busy instance is not kept from the
    // fleet by its own size.
    prepare: (redis) => connection.timed(renew(redis), resyncBoundMs(own.size())),
    up() {
      clearInterval(renewTimer);
      renewTimer = setInterval(
        () => {
          const redis = connection.current();
          if (redis) void renew(redis).catch(() => connection.drop());
        },
        Math.max(100, Math.floor(options.leaseMs / 3)),
      );
      renewTimer.unref?.();
      setMode("fleet");
    },
    down(why) {
      clearInterval(renewTimer);
      setMode("degraded", why);
    },
  });

  return {
    get mode() {
      return mode;
    },
    connected: () => connection.firstUp,
    admitHere: own.admitHere,
    held: own.held,
    // The renewal writes it with the rest, within a third of the lease.
    hold: own.hold,
    async admit(key, limits, hold) {
      const redis = connection.current();
      if (redis) {
        const capacity = limits.rate > 0 ? limits.capacity || limits.rate : 0;
        try {
          const answer = await connection.timed(
            redis.send("EVAL", [
              ADMIT_SCRIPT,
              "2",
              connKey(key),
              rateKey(key),
              instance,
              String(limits.most),
              String(capacity),
              String(limits.rate),
              hold ? "1" : "0",
              `${prefix}:alive:`,
              String(options.leaseMs * 3),
              String(Math.max(1000, Math.ceil((capacity / Math.max(limits.rate, 1)) * 1000))),
            ]),
          );
          const verdict = ANSWERS[answer as number] ?? "ok";
          if (verdict === "ok" && hold) own.hold(key);
          return verdict;
        } catch {
          // A store that does not answer in time is treated as gone until it reconnects.
          if (connection.current() === redis) connection.drop();
        }
      }
      if (options.fallback === "refuse") return "unavailable";
      return own.admit(key, limits, hold);
    },
    release(key) {
      if (own.held(key) === 0) return;
      own.release(key);
      // Best effort: a release that does not reach Redis is healed by the next renewal.
      connection
        .current()
        ?.send("EVAL", [RELEASE_SCRIPT, "1", connKey(key), instance])
        .catch(() => undefined);
    },
    async close() {
      clearInterval(renewTimer);
      const redis = connection.current();
      // This instance's counts leave with it rather than at the end of its lease.
      if (redis) await connection.timed(redis.send("DEL", [aliveKey])).catch(() => undefined);
      connection.close();
    },
  };
}
