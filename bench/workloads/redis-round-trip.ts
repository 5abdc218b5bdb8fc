// The Redis round trip as Socket2Web's own client sees it, at idle: Bun's RedisClient in a process
// of its own, one command at a time (PING; the admission script by EVAL as src/state/redis-counts.ts
// sends it, body and all; the release script; the admission script by EVALSHA), each timed from
// send to answer, beside what Redis says its own execution took (INFO commandstats).
import { RedisClient } from "bun";
import { ADMIT_SCRIPT, RELEASE_SCRIPT } from "../../src/state/scripts.ts";
import { type CommandStats, commandDelta, parseCommandStats } from "../lib/redis.ts";
import { percentileSorted } from "../lib/stats.ts";

export interface RoundTripOptions {
  url: string;
  /** Commands per kind, one at a time. */
  calls: number;
}

export interface RoundTrip {
  /** What was sent: ping, eval-admit, eval-release, evalsha-admit. */
  kind: string;
  calls: number;
  /** Send → answer in this client, µs. */
  p50Us: number;
  p99Us: number;
  /** Redis's own time per top-level call (the script's commands included), µs. */
  redisUsecPerCall: number;
  /** Bytes of the request, as sent on the wire (RESP). */
  requestBytes: number;
}

/** RESP array of bulk strings: the size of what goes on the wire for one command. */
function respBytes(args: string[]): number {
  let bytes = `*${args.length}\r\n`.length;
  for (const arg of args) {
    const length = Buffer.byteLength(arg);
    bytes += `$${length}\r\n`.length + length + 2;
  }
  return bytes;
}

export async function runRedisRoundTrips(options: RoundTripOptions): Promise<RoundTrip[]> {
  const redis = new RedisClient(options.url, { enableOfflineQueue: false, autoReconnect: false });
  await redis.connect();
  const stats = async (): Promise<CommandStats> =>
    parseCommandStats(String(await redis.send("INFO", ["commandstats"])));
  // The arguments src/state/redis-counts.ts sends for one admission, on keys of the probe's own.
  const admitArgs = [
    "2",
    "bench-rtt:conn:127.0.0.1",
    "bench-rtt:rate:127.0.0.1",
    "bench-rtt-instance",
    "1000000",
    "1000000",
    "1000000",
    "1",
    "bench-rtt:alive:",
    "45000",
    "1000",
  ];
  const releaseArgs = ["1", "bench-rtt:conn:127.0.0.1", "bench-rtt-instance"];
  const sha = String(await redis.send("SCRIPT", ["LOAD", ADMIT_SCRIPT]));
  const kinds: { kind: string; command: string; args: string[] }[] = [
    { kind: "ping", command: "PING", args: [] },
    { kind: "eval-admit", command: "EVAL", args: [ADMIT_SCRIPT, ...admitArgs] },
    { kind: "eval-release", command: "EVAL", args: [RELEASE_SCRIPT, ...releaseArgs] },
    { kind: "evalsha-admit", command: "EVALSHA", args: [sha, ...admitArgs] },
  ];
  const results: RoundTrip[] = [];
  for (const { kind, command, args } of kinds) {
    // Warm: the first call of a script compiles it.
    for (let i = 0; i < 50; i++) await redis.send(command, args);
    const before = await stats();
    const samples = new Float64Array(options.calls);
    for (let i = 0; i < options.calls; i++) {
      const at = Bun.nanoseconds();
      await redis.send(command, args);
      samples[i] = (Bun.nanoseconds() - at) / 1000;
    }
    const ran = commandDelta(before, await stats())[command.toLowerCase()];
    samples.sort();
    results.push({
      kind,
      calls: options.calls,
      p50Us: percentileSorted(samples, 50),
      p99Us: percentileSorted(samples, 99),
      redisUsecPerCall: ran ? ran.usec / ran.calls : Number.NaN,
      requestBytes: respBytes([command, ...args]),
    });
  }
  await redis.send("DEL", ["bench-rtt:conn:127.0.0.1", "bench-rtt:rate:127.0.0.1"]);
  redis.close();
  return results;
}
