// --capture through the real proxy: pcapng files that tshark reads back as the session was.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "../../src/client/index.ts";
import { randomBytes, sha256 } from "../helpers/bytes.ts";
import { runWithInput, startForward } from "../helpers/client-cli.ts";
import { type RunningProxy, startProxy } from "../helpers/proxy.ts";
import { missingRedisBinaries, startRedis } from "../helpers/redis.ts";
import { readExactly } from "../helpers/streams.ts";
import { concat, startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import {
  captureProblems,
  followTcp,
  frameFields,
  redisValues,
  tsharkMissing,
} from "../helpers/tshark.ts";

const root = mkdtempSync(join(tmpdir(), "socket2web-capture-e2e-"));
const allDir = join(root, "all");
const filteredDir = join(root, "filtered");
let proxy: RunningProxy;
let filtered: RunningProxy;
let echo: TcpTarget;
let other: TcpTarget;
const LIMIT = 65_536;

beforeAll(async () => {
  echo = startTcpTarget("echo");
  other = startTcpTarget("echo");
  [proxy, filtered] = await Promise.all([
    startProxy(["--capture", allDir]),
    startProxy([
      "--capture",
      filteredDir,
      "--capture-max-bytes",
      String(LIMIT),
      "--capture-filter",
      `127.0.0.1:${echo.port}`,
    ]),
  ]);
}, 20_000);

afterAll(async () => {
  echo?.stop();
  other?.stop();
  await Promise.all([proxy?.stop(), filtered?.stop()]);
  rmSync(root, { recursive: true, force: true });
});

/** The first FIN in a capture: its source port and its frame comment (the close code). */
const firstFin = async (path: string) =>
  (await frameFields(path, ["tcp.srcport", "frame.comment"], ["-Y", "tcp.flags.fin==1"]))[0];
const tcp = (port: number) => ({ protocol: "tcp", target_ip: "127.0.0.1", target_port: port });

/** The capture files in `dir` whose session has ended (their last packet carries the close). */
async function finishedCaptures(dir: string, count: number): Promise<string[]> {
  for (let i = 0; i < 2000; i++) {
    const done = readdirSync(dir)
      .map((name) => join(dir, name))
      .filter((path) => readFileSync(path).includes("WebSocket closed"));
    if (done.length >= count) return done.sort();
    await Bun.sleep(10);
  }
  throw new Error(
    `fewer than ${count} finished captures in ${dir}: ${readdirSync(dir).join(", ")}`,
  );
}

const newFiles = (dir: string, before: readonly string[]) => async (count: number) =>
  (await finishedCaptures(dir, before.length + count)).filter((path) => !before.includes(path));

const listing = (dir: string) => {
  try {
    return readdirSync(dir).map((name) => join(dir, name));
  } catch {
    return [];
  }
};

describe.skipIf(tsharkMissing())("--capture through the proxy, read by tshark", () => {
  test("each direction's bytes come back exactly, 1 MiB random among mixed sizes; file mode 0600", async () => {
    const before = listing(allDir);
    const chunks = [7, 65_495, 65_496, 1024 * 1024, 300_001, 1].map((size) => randomBytes(size));
    const sent = concat(chunks);
    const connection = await connect(proxy.url, tcp(echo.port));
    const reply = readExactly(connection.readable.getReader(), sent.byteLength);
    const writer = connection.writable.getWriter();
    for (const chunk of chunks) await writer.write(chunk);
    expect(sha256(await reply)).toBe(sha256(sent));
    connection.close();
    await connection.closed;

    const [path] = await newFiles(allDir, before)(1);
    expect(statSync(path as string).mode & 0o777).toBe(0o600);
    const stream = await followTcp(path as string);
    expect(stream.client.byteLength).toBe(sent.byteLength);
    expect(sha256(stream.client)).toBe(sha256(sent));
    expect(sha256(stream.server)).toBe(sha256(sent));
    const [syn] = await frameFields(path as string, ["ip.src", "ip.dst", "tcp.dstport"]);
    expect(syn).toEqual(["127.0.0.1", "127.0.0.1", String(echo.port)]);
    // The client closed: its side sends the first FIN, and the close code is a comment on it.
    const closing = await firstFin(path as string);
    expect(closing?.[0]).not.toBe(String(echo.port));
    expect(closing?.[1]).toContain("WebSocket closed with code 1000");
    expect(await captureProblems(path as string)).toBe("");
  }, 60_000);

  test("a target that ends its stream sends the first FIN; the close reason is in the comment", async () => {
    const before = listing(allDir);
    const greeter = startTcpTarget((socket) => {
      socket.write("hello and goodbye\n");
      socket.end();
    });
    try {
      const connection = await connect(proxy.url, tcp(greeter.port));
      const closed = await connection.closed;
      expect(closed.code).toBe(1000);
      const [path] = await newFiles(allDir, before)(1);
      const stream = await followTcp(path as string);
      expect(new TextDecoder().decode(stream.server)).toBe("hello and goodbye\n");
      const closing = await firstFin(path as string);
      expect(closing?.[0]).toBe(String(greeter.port));
      expect(closing?.[1]).toContain('WebSocket closed with code 1000 reason "target closed"');
    } finally {
      greeter.stop();
    }
  }, 60_000);

  test("only the filtered target is captured, and at --capture-max-bytes the file is cut and says so", async () => {
    const big = randomBytes(1024 * 1024);
    for (const port of [other.port, echo.port]) {
      const connection = await connect(filtered.url, tcp(port));
      const reply = readExactly(connection.readable.getReader(), big.byteLength);
      await connection.writable.getWriter().write(big);
      await reply;
      connection.close();
      await connection.closed;
    }
    const [path] = await finishedCaptures(filteredDir, 1);
    expect(readdirSync(filteredDir)).toHaveLength(1);
    expect(path).toContain(`-tcp-127.0.0.1-${echo.port}.pcapng`);
    expect(statSync(path as string).size).toBeLessThanOrEqual(LIMIT);
    const comments = (await frameFields(path as string, ["frame.comment"])).flat().filter(Boolean);
    expect(
      comments.some((text) =>
        text.includes(`capture truncated: the file reached its limit of ${LIMIT} bytes`),
      ),
    ).toBe(true);
    expect(comments.some((text) => text.includes(`client sent ${big.byteLength} bytes`))).toBe(
      true,
    );
    const stream = await followTcp(path as string);
    expect(stream.client.byteLength).toBeGreaterThan(LIMIT / 3);
    expect(sha256(stream.client)).toBe(sha256(big.subarray(0, stream.client.byteLength)));
  }, 60_000);

  const noRedis = missingRedisBinaries().length > 0;
  test.skipIf(noRedis)(
    "redis-cli through forward and the proxy: tshark's RESP dissector decodes the capture",
    async () => {
      const redis = await startRedis();
      const forward = await startForward([
        "--server",
        proxy.url,
        "--target",
        `127.0.0.1:${redis.port}`,
      ]);
      const before = listing(allDir);
      try {
        const cli = (...args: string[]) => [
          "redis-cli",
          "-h",
          "127.0.0.1",
          "-p",
          String(forward.port),
          ...args,
        ];
        const set = await runWithInput(cli("SET", "capture", "works"), null);
        expect(new TextDecoder().decode(set.stdout).trim()).toBe("OK");
        const [path] = await newFiles(allDir, before)(1);
        const { bulk, simple } = await redisValues(path as string, redis.port);
        expect(bulk).toEqual(expect.arrayContaining(["SET", "capture", "works"]));
        expect(simple).toContain("OK");
      } finally {
        await forward.stop();
        await redis.stop();
      }
    },
    60_000,
  );
});
