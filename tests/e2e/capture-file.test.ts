// The pcapng writer's files, read by Debian's tshark: what Wireshark users will open.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type CaptureEndpoint,
  SessionCapture,
  type Transport,
} from "../../src/capture/session-capture.ts";
import type { SessionEnd } from "../../src/session/end.ts";
import { randomBytes, sha256 } from "../helpers/bytes.ts";
import { missingRedisBinaries, startRedis } from "../helpers/redis.ts";
import { concat } from "../helpers/targets.ts";
import {
  captureProblems,
  followTcp,
  frameFields,
  redisValues,
  tsharkMissing,
} from "../helpers/tshark.ts";

const dir = mkdtempSync(join(tmpdir(), "socket2web-capture-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Event = { from: "client" | "target"; bytes: Uint8Array };

let fileCount = 0;
async function writeCapture(
  events: readonly Event[],
  options: {
    transport?: Transport;
    client?: CaptureEndpoint;
    target?: CaptureEndpoint;
    maxBytes?: number;
    how?: SessionEnd;
    code?: number;
    reason?: string;
  } = {},
): Promise<{ path: string; capture: SessionCapture; size: number }> {
  const capture = new SessionCapture({
    client: options.client ?? { address: "127.0.0.1", port: 41000 },
    target: options.target ?? { address: "127.0.0.1", port: 7000 },
    transport: options.transport ?? "tcp",
    ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
    comments: ["test session"],
  });
  let micros = Date.UTC(2026, 11, 1) * 1000;
  const parts = [capture.start(micros)];
  for (const event of events) {
    micros += 10;
    parts.push(
      event.from === "client"
        ? capture.fromClient(event.bytes, micros)
        : capture.fromTarget(event.bytes, micros),
    );
  }
  parts.push(
    capture.end(
      {
        code: options.code ?? 1000,
        reason: options.reason ?? "target closed",
        how: options.how ?? "target-end",
      },
      micros + 10,
    ),
  );
  const path = join(dir, `capture-${++fileCount}.pcapng`);
  const size = await Bun.write(path, new Blob(parts));
  return { path, capture, size };
}

const sent = (events: readonly Event[], from: Event["from"]) =>
  concat(events.filter((event) => event.from === from).map((event) => event.bytes));

describe.skipIf(tsharkMissing())("pcapng capture files read by tshark", () => {
  test("follow,tcp,raw gives back each direction's bytes exactly, 1 MiB random among mixed sizes", async () => {
    const events: Event[] = [
      { from: "client", bytes: new TextEncoder().encode("hello\r\n") },
      { from: "target", bytes: randomBytes(1) },
      { from: "client", bytes: randomBytes(65_495) },
      { from: "client", bytes: randomBytes(65_496) },
      { from: "target", bytes: randomBytes(1024 * 1024) },
      { from: "client", bytes: randomBytes(300_001) },
      { from: "target", bytes: randomBytes(17) },
    ];
    const { path } = await writeCapture(events);
    const stream = await followTcp(path);
    expect(stream.client.byteLength).toBe(sent(events, "client").byteLength);
    expect(sha256(stream.client)).toBe(sha256(sent(events, "client")));
    expect(sha256(stream.server)).toBe(sha256(sent(events, "target")));
    expect(await captureProblems(path)).toBe("");
  }, 60_000);

  test("segments carry at most 65,495 payload bytes and sequence numbers follow the bytes", async () => {
    const { path } = await writeCapture([{ from: "target", bytes: randomBytes(65_495 * 2 + 1) }]);
    const frames = await frameFields(path, [
      "tcp.srcport",
      "tcp.len",
      "tcp.flags.str",
      "tcp.seq",
      "tcp.ack",
    ]);
    const lengths = frames.map(([, len]) => Number(len)).filter((len) => len > 0);
    expect(lengths).toEqual([65_495, 65_495, 1]);
    const flags = frames.map(([, , text]) => text?.replace(/·/g, "").trim());
    expect(flags.slice(0, 3)).toEqual(["S", "AS", "A"]);
    // Target FIN first, then the client's, each acknowledged.
    expect(flags.slice(-4)).toEqual(["AF", "A", "AF", "A"]);
    // Relative sequence numbers: the FIN from the target sits right after its last byte.
    const fin = frames.at(-4) as string[];
    expect(Number(fin[3])).toBe(1 + 65_495 * 2 + 1);
  }, 60_000);

  test.each([
    ["client-end", "A·······F", "client"],
    ["client-reset", "A·····R··", "client"],
    ["target-reset", "A·····R··", "target"],
  ] as const)(
    "a session ending %s closes with the right flags from the right side",
    async (how, _flags, side) => {
      const { path } = await writeCapture([{ from: "client", bytes: randomBytes(10) }], {
        how,
        code: 1011,
        reason: "target failed",
      });
      const frames = await frameFields(path, [
        "tcp.srcport",
        "tcp.flags.fin",
        "tcp.flags.reset",
        "frame.comment",
      ]);
      const closing = frames.find(
        ([, fin, reset]) => fin === "1" || fin === "True" || reset === "1" || reset === "True",
      );
      expect(closing).toBeDefined();
      const [port, , , comment] = closing as string[];
      expect(port).toBe(side === "client" ? "41000" : "7000");
      const resets = frames.filter(([, , reset]) => reset === "1" || reset === "True").length;
      expect(resets).toBe(how.endsWith("reset") ? 1 : 0);
      expect(comment).toContain('WebSocket closed with code 1011 reason "target failed"');
      expect(await captureProblems(path)).toBe("");
    },
    60_000,
  );

  test("IPv6, and an IPv4 target seen from an IPv6 client, are consistent TCP streams", async () => {
    const events: Event[] = [
      { from: "client", bytes: randomBytes(70_000) },
      { from: "target", bytes: randomBytes(5) },
    ];
    for (const target of ["::1", "127.0.0.1"]) {
      const { path } = await writeCapture(events, {
        client: { address: "::1", port: 41000 },
        target: { address: target, port: 7000 },
      });
      const stream = await followTcp(path);
      expect(sha256(stream.client)).toBe(sha256(sent(events, "client")));
      expect(sha256(stream.server)).toBe(sha256(sent(events, "target")));
      const [first] = await frameFields(path, ["ipv6.src", "ipv6.dst"]);
      expect(first).toEqual(["::1", target === "::1" ? "::1" : "::ffff:127.0.0.1"]);
      expect(await captureProblems(path)).toBe("");
    }
  }, 60_000);

  test("truncation at the limit is marked, the file stays within it, and what is kept is exact", async () => {
    const big = randomBytes(200_000);
    const maxBytes = 100_000;
    const { path, size, capture } = await writeCapture(
      [
        { from: "client", bytes: new TextEncoder().encode("GET") },
        { from: "target", bytes: big },
        { from: "client", bytes: new TextEncoder().encode("after the cut") },
      ],
      { maxBytes },
    );
    expect(size).toBeLessThanOrEqual(maxBytes);
    expect(capture.truncated).toBe(true);
    const comments = (await frameFields(path, ["frame.comment"])).flat().filter(Boolean);
    expect(
      comments.some(
        (text) => text.includes("capture truncated") && text.includes(String(maxBytes)),
      ),
    ).toBe(true);
    expect(
      comments.some(
        (text) => text.includes("target sent 200000 bytes") && text.includes("(truncated)"),
      ),
    ).toBe(true);
    const stream = await followTcp(path);
    expect(new TextDecoder().decode(stream.client)).toBe("GET");
    expect(stream.server.byteLength).toBeGreaterThan(90_000);
    expect(sha256(stream.server)).toBe(sha256(big.subarray(0, stream.server.byteLength)));
    expect(await captureProblems(path)).toBe("");
  }, 60_000);

  test("a UDP session shows one datagram per message, close code on the last", async () => {
    const messages: Event[] = [
      { from: "client", bytes: new TextEncoder().encode("ping") },
      { from: "target", bytes: new TextEncoder().encode("pong") },
      { from: "client", bytes: randomBytes(1200) },
      { from: "target", bytes: randomBytes(65_507) },
    ];
    const { path } = await writeCapture(messages, {
      transport: "udp",
      how: "client-end",
      reason: "",
    });
    const frames = await frameFields(path, [
      "udp.srcport",
      "udp.length",
      "udp.payload",
      "frame.comment",
    ]);
    expect(frames.map(([port, length]) => [port, Number(length) - 8])).toEqual([
      ["41000", 4],
      ["7000", 4],
      ["41000", 1200],
      ["7000", 65_507],
    ]);
    expect(frames[0]?.[2]).toBe(Buffer.from("ping").toString("hex"));
    expect(frames.at(-1)?.[3]).toContain("WebSocket closed with code 1000");
    expect(await captureProblems(path)).toBe("");
  }, 60_000);

  const noRedis = missingRedisBinaries().length > 0;
  test.skipIf(noRedis)(
    "redis-cli talking to redis-server through a recording relay is decoded by tshark's RESP dissector",
    async () => {
      const redis = await startRedis();
      const events: Event[] = [];
      type RelayState = { upstream?: Promise<import("bun").Socket<undefined>> };
      const relay = Bun.listen<RelayState>({
        hostname: "127.0.0.1",
        port: 0,
        socket: {
          open(client) {
            client.data = {
              upstream: Bun.connect({
                hostname: "127.0.0.1",
                port: redis.port,
                socket: {
                  data(_server, bytes) {
                    events.push({ from: "target", bytes: new Uint8Array(bytes) });
                    client.write(bytes);
                  },
                  close() {
                    client.end();
                  },
                },
              }),
            };
          },
          async data(client, bytes) {
            events.push({ from: "client", bytes: new Uint8Array(bytes) });
            (await client.data.upstream)?.write(bytes);
          },
          async close(client) {
            (await client.data.upstream)?.end();
          },
        },
      });
      try {
        const cli = Bun.spawn(["redis-cli", "-h", "127.0.0.1", "-p", String(relay.port)], {
          stdin: "pipe",
          stdout: "pipe",
          stderr: "pipe",
        });
        cli.stdin.write("SET greeting hello\nGET greeting\nPING\n");
        await cli.stdin.end();
        const output = await new Response(cli.stdout).text();
        expect(await cli.exited).toBe(0);
        expect(output).toContain("hello");
        const { path } = await writeCapture(events, {
          target: { address: "127.0.0.1", port: redis.port },
          how: "client-end",
        });
        const { bulk, simple } = await redisValues(path, redis.port);
        const values = [...bulk, ...simple].join(" ");
        expect(values).toContain("SET");
        expect(values).toContain("greeting");
        expect(values).toContain("hello");
        expect(values).toContain("PONG");
        expect(await captureProblems(path)).toBe("");
      } finally {
        relay.stop(true);
        await redis.stop();
      }
    },
    60_000,
  );
});
