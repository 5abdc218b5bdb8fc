import { RedisClient } from "bun";

/** A command the store did not answer in this long counts as the store being gone. */
export const COMMAND_TIMEOUT_MS = 250;
/** Reconnect attempts back off from the first to the last delay, doubling, with jitter. */
const RECONNECT_FIRST_MS = 100;
const RECONNECT_LAST_MS = 5000;

export interface RedisConnectionOptions {
  /** `redis://…` or `rediss://…`, with its password. */
  readonly url: string;
  /** PEM CAs a `rediss://` server may chain to, besides the system's. */
  readonly ca?: string | undefined;
  /** Runs on each new connection before it is used (a resync); a failure drops the connection. */
  readonly prepare?: (redis: RedisClient) => Promise<void>;
  /** The connection is up (again). */
  readonly up?: () => void;
  /** The connection went, or could not be made; `why` says what happened. */
  readonly down?: (why: string) => void;
}

export interface RedisConnection {
  /** The connected client, or undefined while there is none. */
  current(): RedisClient | undefined;
  /** Resolves once the first connection is up (never rejects: it keeps trying). */
  readonly firstUp: Promise<void>;
  /** Rejects when `promise` takes longer than `ms` (default COMMAND_TIMEOUT_MS). */
  timed<T>(promise: Promise<T>, ms?: number): Promise<T>;
  /** Drops the current connection (a command timed out); a new one is tried with backoff. */
  drop(): void;
  close(): void;
}

/**
 * One connection to Redis that Socket2Web manages itself: a command on a connection that is gone
 * fails at once (no offline queue, so nothing piles up), and reconnecting backs off from 100 ms
 * to 5 s with jitter, running `prepare` before each new connection is used. Verified on Bun 1.4.5:
 * with `autoReconnect` off, `onclose` fires as soon as the server goes, and `connect()` works again
 * once it is back (docs/bun-notes.md).
 */
export function redisConnection(options: RedisConnectionOptions): RedisConnection {
  let client: RedisClient | undefined;
  let closed = false;
  let delay = RECONNECT_FIRST_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const firstUp = Promise.withResolvers<void>();

  const timed = <T>(promise: Promise<T>, ms = COMMAND_TIMEOUT_MS): Promise<T> => {
    let guard: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        guard = setTimeout(() => {
          // Timers run before sockets are read: after a stall of this process's own event loop
          // (GC, CPU starvation) the answer may be waiting in the socket. One more turn reads it
          // first, so only Redis's silence counts as Redis gone.
          guard = setTimeout(() => reject(new Error("no answer in time")), 0);
        }, ms);
      }),
    ]).finally(() => clearTimeout(guard));
  };

  const retry = () => {
    if (closed || timer) return;
    const wait = delay * (0.5 + Math.random() / 2);
    delay = Math.min(RECONNECT_LAST_MS, delay * 2);
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, wait);
    timer.unref?.();
  };

  const connect = async () => {
    if (closed) return;
    const redis = new RedisClient(options.url, {
      enableOfflineQueue: false,
      autoReconnect: false,
      connectionTimeout: 2000,
      ...(options.ca ? { tls: { ca: options.ca } } : {}),
    });
    redis.onclose = () => {
      if (client !== redis) return;
      client = undefined;
      options.down?.("connection closed");
      retry();
    };
    try {
      await timed(redis.connect());
      await options.prepare?.(redis);
    } catch (error) {
      redis.close();
      options.down?.((error as Error).message);
      retry();
      return;
    }
    if (closed) {
      redis.close();
      return;
    }
    client = redis;
    delay = RECONNECT_FIRST_MS;
    options.up?.();
    firstUp.resolve();
  };

  void connect();
  return {
    current: () => client,
    firstUp: firstUp.promise,
    timed,
    drop() {
      const redis = client;
      client = undefined;
      if (redis) {
        redis.close();
        options.down?.("no answer in time");
        retry();
      }
    },
    close() {
      closed = true;
      clearTimeout(timer);
      const redis = client;
      client = undefined;
      redis?.close();
    },
  };
}
