import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type RunningForward, runWithInput, startForward } from "../helpers/client-cli.ts";
import { type RunningProxy, startProxy } from "../helpers/proxy.ts";
import { missingRedisBinaries, type RunningRedis, startRedis } from "../helpers/redis.ts";

const missing = missingRedisBinaries();
if (missing.length > 0) {
  throw new Error(`${missing.join(", ")} not found: run tests/setup/install-redis.sh`);
}

let proxy: RunningProxy;
let redis: RunningRedis;
let forward: RunningForward;
/** Sessions the forwarder has logged as closed so far; each redis-cli run adds one. */
let sessions = 0;

const SESSION_LINE = /127\.0\.0\.1:\d+ → 127\.0\.0\.1:\d+: closed 1000/;

beforeAll(async () => {
  [proxy, redis] = await Promise.all([startProxy(), startRedis()]);
  forward = await startForward([
    "--server",
    proxy.url,
    "--target",
    `127.0.0.1:${redis.port}`,
    "--linger",
    "0.2",
  ]);
});

afterAll(async () => {
  await forward?.stop();
  await Promise.all([redis?.stop(), proxy?.stop()]);
});

function cli(...args: string[]): string[] {
  return ["redis-cli", "-h", "127.0.0.1", "-p", String(forward.port), ...args];
}

async function expectSessionLogged(count = 1): Promise<void> {
  sessions += count;
  await forward.waitForLines(SESSION_LINE, sessions, 5000);
}

describe("socket2web forward with redis", () => {
  test("SET and GET of a 1 MiB value", async () => {
    const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    const random = crypto.getRandomValues(new Uint8Array(1024 * 1024));
    const value = Array.from(random, (byte) => alphabet[byte % alphabet.length]).join("");

    const set = await runWithInput(cli("-x", "SET", "big"), new TextEncoder().encode(value));
    expect(set.stderr).toBe("");
    expect(new TextDecoder().decode(set.stdout).trim()).toBe("OK");

    const get = await runWithInput(cli("GET", "big"), null);
    expect(get.exitCode).toBe(0);
    expect(new TextDecoder().decode(get.stdout)).toBe(`${value}\n`);
    await expectSessionLogged(2);
  }, 30_000);

  test("a pipeline of 10,000 commands", async () => {
    let resp = "";
    for (let i = 0; i < 10_000; i++) {
      const key = `key:${i}`;
      const value = `value:${i}`;
      resp += `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n${value}\r\n`;
    }
    const pipe = await runWithInput(cli("--pipe"), new TextEncoder().encode(resp));
    expect(pipe.exitCode).toBe(0);
    expect(new TextDecoder().decode(pipe.stdout)).toContain("errors: 0, replies: 10000");

    const get = await runWithInput(cli("GET", "key:9999"), null);
    expect(new TextDecoder().decode(get.stdout).trim()).toBe("value:9999");
    await expectSessionLogged(2);
  }, 30_000);

  test("redis-benchmark runs without errors", async () => {
    const clients = 8;
    const bench = await runWithInput(
      [
        "redis-benchmark",
        ...["-h", "127.0.0.1", "-p", String(forward.port)],
        ...["-q", "-n", "2000", "-c", String(clients), "-t", "ping,set,get,incr,lpush"],
      ],
      null,
      30_000,
    );
    const output = new TextDecoder().decode(bench.stdout) + bench.stderr;
    expect(bench.exitCode).toBe(0);
    expect(output).not.toMatch(/error/i);
    // -q prints one "requests per second" line per test; PING runs as PING_INLINE and PING_MBULK.
    const results = output.split(/[\r\n]+/).filter((line) => /requests per second/.test(line));
    expect(results.length).toBeGreaterThanOrEqual(5);
  }, 30_000);
});
