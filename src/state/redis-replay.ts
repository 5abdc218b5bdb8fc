import type { ReplayGuard } from "../auth/replay.ts";
import type { Logger } from "../log/logger.ts";
import { redisConnection } from "./redis-connection.ts";

export interface RedisReplayOptions {
  readonly url: string;
  readonly ca?: string | undefined;
  readonly prefix: string;
  readonly logger: Logger;
}

/**
 * `--ticket-single-use` for a fleet: a ticket's `jti` is claimed in Redis with SET NX until the
 * ticket expires, so it is accepted once across every instance and worker. It fails closed: while
 * Redis cannot be asked, a single-use ticket is refused (as "full": try again later), never
 * accepted twice.
 */
export function redisReplayGuard(options: RedisReplayOptions): ReplayGuard & { close(): void } {
  let down = false;
  const connection = redisConnection({
    url: options.url,
    ca: options.ca,
    up() {
      if (down) options.logger.info("state: single-use tickets are checked in Redis again");
      down = false;
    },
    down(why) {
      if (!down) {
        options.logger.warn(
          `state: Redis unreachable (${why}); single-use tickets are refused until it is back`,
        );
      }
      down = true;
    },
  });
  return {
    async claim(jti, expiresAt) {
      const redis = connection.current();
      if (!redis) return "full";
      try {
        const answer = await connection.timed(
          redis.send("SET", [`${options.prefix}:jti:${jti}`, "1", "NX", "PXAT", String(expiresAt)]),
        );
        return answer === "OK" ? "claimed" : "replayed";
      } catch {
        connection.drop();
        return "full";
      }
    },
    close: () => connection.close(),
  };
}
