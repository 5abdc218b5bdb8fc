import type { RedisClient } from "bun";
import { createRateLimiter, type RateLimiter } from "../limits/rate-limit.ts";
import type { Logger } from "../log/logger.ts";
import type {
  AddressLimitSettings,
  AddressLimits,
  AddressVerdict,
  LimitsMode,
} from "./address-limits.ts";
import { redisConnection } from "./redis-connection.ts";
import { ADMIT_SCRIPT, RELEASE_SCRIPT } from "./scripts.ts";

/** What the store needs besides the limits. */
export interface RedisLimitsOptions {
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

/** Distinct addresses the fallback rate limiter remembers (as in process). */
const RATE_LIMIT_KEYS = 100_000;

/**
 * `--rate-limit` and `--max-connections-per-ip` counted across every instance sharing one Redis,
 * in one round trip per upgrade (a script that takes the rate token, drops the counts of
 * instances whose lease has run out, and holds a slot if there is room).
 *
 * Each instance keeps its own counts here too: it renews a lease on them every third of the
 * lease and rewrites them, so counts heal after a Redis restart and a dead instance's vanish once
 * its lease runs out. While Redis is unreachable the same counts decide alone (or the upgrade is
 * refused, with `fallback: "refuse"`); nothing is queued for Redis meanwhile.
 */
export function redisAddressLimits(
  settings: AddressLimitSettings,
  options: RedisLimitsOptions,
): AddressLimits & { connected(): Promise<void> } {
  const { logger, prefix, instance } = options;
  const capacity = settings.rate > 0 ? settings.burst || settings.rate : 0;
  const localRate: RateLimiter | undefined =
    settings.rate > 0
      ? createRateLimiter({ capacity, refillPerSecond: settings.rate, maxKeys: RATE_LIMIT_KEYS })
      : undefined;
  /** Slots this instance holds per address, whoever decided them. */
  const held = new Map<string, number>();
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
    for (const [key, count] of held) {
      writes.push(redis.send("HSET", [connKey(key), instance, String(count)]));
      writes.push(redis.send("PEXPIRE", [connKey(key), String(options.leaseMs * 3)]));
    }
    await Promise.all(writes);
  };

  const connection = redisConnection({
    url: options.url,
    ca: options.ca,
    prepare: (redis) => connection.timed(renew(redis)),
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

  const hold = (key: string) => held.set(key, (held.get(key) ?? 0) + 1);

  /** This process's own verdict: its rate bucket and the slots it holds. */
  const localVerdict = (key: string, wantSlot: boolean): AddressVerdict => {
    if (localRate && !localRate.take(key).allowed) return "rate_limit";
    if (!wantSlot) return "ok";
    if (settings.maxPerAddress > 0 && (held.get(key) ?? 0) >= settings.maxPerAddress) {
      return "per_ip";
    }
    hold(key);
    return "ok";
  };

  return {
    get mode() {
      return mode;
    },
    connected: () => connection.firstUp,
    admitHere: (key) => (localRate && !localRate.take(key).allowed ? "rate_limit" : "ok"),
    async admit(key, wantSlot) {
      const redis = connection.current();
      if (redis) {
        try {
          const answer = await connection.timed(
            redis.send("EVAL", [
              ADMIT_SCRIPT,
              "2",
              connKey(key),
              rateKey(key),
              instance,
              String(settings.maxPerAddress),
              String(capacity),
              String(settings.rate),
              wantSlot ? "1" : "0",
              `${prefix}:alive:`,
              String(options.leaseMs * 3),
              String(Math.max(1000, Math.ceil((capacity / Math.max(settings.rate, 1)) * 1000))),
            ]),
          );
          const verdict: AddressVerdict =
            answer === 1 ? "rate_limit" : answer === 2 ? "per_ip" : "ok";
          if (verdict === "ok" && wantSlot) hold(key);
          return verdict;
        } catch {
          // A store that does not answer in time is treated as gone until it reconnects.
          if (connection.current() === redis) connection.drop();
        }
      }
      if (options.fallback === "refuse") return "unavailable";
      return localVerdict(key, wantSlot);
    },
    release(key) {
      const count = held.get(key);
      if (count === undefined) return;
      if (count <= 1) held.delete(key);
      else held.set(key, count - 1);
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
