// A bare Bun.serve that upgrades every request, after waiting for nothing (sync), a resolved
// promise (microtask), one event-loop turn (Bun.sleep(0)), or the admission script's EVAL on a
// real redis-server, with the release script's EVAL at close (what `--state` asks of Redis, and
// nothing else of Socket2Web). The state phase times upgrades against it: what awaiting Redis in
// an upgrade costs in Bun itself. argv: variant, Redis URL. Prints `{"port":N}`.
import { RedisClient } from "bun";
import { ADMIT_SCRIPT, RELEASE_SCRIPT } from "../../src/state/scripts.ts";

export const UPGRADE_WAITS = ["sync", "microtask", "loop-turn", "redis-eval"] as const;
export type UpgradeWait = (typeof UPGRADE_WAITS)[number];

async function serve(variant: UpgradeWait, redisUrl: string): Promise<void> {
  const redis = new RedisClient(redisUrl, { enableOfflineQueue: false, autoReconnect: false });
  await redis.connect();
  const instance = `upgrade-await-${process.pid}`;
  const conn = "upgrade-await:conn:127.0.0.1";
  // The arguments src/state/redis-counts.ts sends, limits high enough to refuse nothing.
  const admit = [ADMIT_SCRIPT, "2", conn, "upgrade-await:rate:127.0.0.1", instance];
  admit.push("100000", "100000", "100000", "1", "upgrade-await:alive:", "45000", "1000");
  const wait: Record<UpgradeWait, () => Promise<unknown> | undefined> = {
    sync: () => undefined,
    microtask: () => Promise.resolve(),
    "loop-turn": () => Bun.sleep(0),
    "redis-eval": () => redis.send("EVAL", admit),
  };
  const server = Bun.serve<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request, server) {
      const upgrade = () =>
        server.upgrade(request, { data: undefined })
          ? undefined
          : new Response("no upgrade", { status: 400 });
      const pending = wait[variant]();
      return pending === undefined ? upgrade() : pending.then(upgrade);
    },
    websocket: {
      message() {},
      close() {
        if (variant !== "redis-eval") return;
        redis.send("EVAL", [RELEASE_SCRIPT, "1", conn, instance]).catch(() => undefined);
      },
    },
  });
  console.log(JSON.stringify({ port: server.port }));
}

if (import.meta.main) {
  const variant = process.argv[2] as UpgradeWait;
  if (!UPGRADE_WAITS.includes(variant)) throw new Error(`variant: one of ${UPGRADE_WAITS}`);
  await serve(variant, process.argv[3] ?? "");
}
