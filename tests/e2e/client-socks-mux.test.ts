import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { type RunningForward, startForward } from "../helpers/client-cli.ts";
import { curlPath, runCurl } from "../helpers/curl.ts";
import { type RunningProxy, startProxy } from "../helpers/proxy.ts";
import { testSshThroughSocks } from "../helpers/sshd.ts";
import { eventually } from "../helpers/streams.ts";
import { removeTempDir, tempDir } from "../helpers/tls-cert.ts";

/** The server resolves names from this table alone, never DNS. */
const TEST_HOSTS = { SOCKET2WEB_TEST_HOSTS: JSON.stringify({ localhost: ["127.0.0.1"] }) };
const PROXY_ARGS = ["--wisp", "/wisp/", "--wisp-max-streams", "256", "--deny", "127.0.0.2"];
const DOWNLOADS = 200;
const CURLS = 4;
const BODY_BYTES = 128 * 1024;

/** The body of /N: bytes that differ per N, so that a stream mixed up with another shows. */
function body(index: number): Uint8Array {
  const bytes = new Uint8Array(BODY_BYTES);
  let state = (index + 1) * 2654435761;
  for (let i = 0; i < bytes.byteLength; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

let proxy: RunningProxy;
let web: ReturnType<typeof Bun.serve>;
let socks: RunningForward;
/** Requests for /slow are held open until released, to have a stream in flight. */
let releaseSlow: (() => void) | undefined;

/** Ends the held /slow response (a function: narrowing would not see the handler set it). */
const releaseHeld = () => releaseSlow?.();

beforeAll(async () => {
  web = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const path = new URL(request.url).pathname.slice(1);
      if (path === "slow") {
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode("first part\n"));
            releaseSlow = () => controller.close();
          },
        });
        return new Response(stream);
      }
      return new Response(body(Number(path)));
    },
  });
  proxy = await startProxy(PROXY_ARGS, TEST_HOSTS);
  socks = await startForward(
    ["--server", `${proxy.url}/wisp/`, "--mux", "--ping-interval", "2", "--timeout", "5"],
    "socks",
  );
});

afterAll(async () => {
  await socks?.stop();
  await proxy?.stop();
  web?.stop(true);
});

const curl = (...args: string[]) => runCurl(20, ...args);

describe.skipIf(curlPath === null)("socket2web socks --mux", () => {
  testSshThroughSocks(() => socks.port);
  test(`${DOWNLOADS} concurrent curl downloads ride one Wisp connection, every byte checked; the policy refuses one target meanwhile`, async () => {
    const through = `127.0.0.1:${socks.port}`;
    const dir = tempDir("socks-mux-");
    try {
      // A few curl processes, each with many transfers at once: 200 local connections together.
      const perCurl = DOWNLOADS / CURLS;
      const runs = Array.from({ length: CURLS }, (_, run) => {
        const transfers = Array.from({ length: perCurl }, (_, i) => run * perCurl + i).flatMap(
          (index) => ["-o", join(dir, String(index)), `http://localhost:${web.port}/${index}`],
        );
        return curl(
          "--parallel",
          "--no-progress-meter",
          "--parallel-immediate",
          "--parallel-max",
          String(perCurl),
          "--socks5-hostname",
          through,
          ...transfers,
        );
      });
      const denied = curl("--socks5", through, `http://127.0.0.2:${web.port}/0`);
      for (const run of await Promise.all(runs)) expect(run.stderr).toBe("");
      for (let index = 0; index < DOWNLOADS; index++) {
        const bytes = new Uint8Array(await Bun.file(join(dir, String(index))).arrayBuffer());
        expect(sha(bytes)).toBe(sha(body(index)));
      }
      const refused = await denied;
      expect(refused.exitCode).not.toBe(0);
    } finally {
      removeTempDir(dir);
    }
    await socks.waitForLines(
      /127\.0\.0\.2:\d+: the server's policy does not allow this target/,
      1,
      5000,
    );
    // One Wisp connection carried them all: the server logged every stream under one id.
    const ids = new Set(
      proxy
        .output()
        .split("\n")
        .map((line) => /\bwisp (\d+) stream/.exec(line)?.[1])
        .filter((id) => id !== undefined),
    );
    expect(ids.size).toBe(1);
    expect(socks.output().match(/connected to ws:/g)?.length).toBe(1);
  }, 60_000);

  test("an upload whose first write is small and the rest large is never starved of credit", async () => {
    // A request head, then a bulk body: the pattern that once left a stream with no credit.
    const total = 16 * 1024 * 1024;
    let received = 0;
    const sink = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(_socket, chunk) {
          received += chunk.byteLength;
        },
      },
    });
    try {
      let replies = 0;
      const client = await Bun.connect({
        hostname: "127.0.0.1",
        port: socks.port,
        socket: {
          data(_socket, chunk) {
            replies += chunk.byteLength;
          },
          drain: () => pump(),
        },
      });
      client.write(
        Uint8Array.of(
          0x05,
          0x01,
          0x00,
          0x05,
          0x01,
          0x00,
          0x01,
          127,
          0,
          0,
          1,
          sink.port >> 8,
          sink.port & 0xff,
        ),
      );
      await eventually(() => replies === 12, 5000, "the SOCKS5 replies");
      client.write(new Uint8Array(16));
      await eventually(() => received === 16, 5000, "the small first write");
      const body = new Uint8Array(64 * 1024);
      let sent = 16;
      const pump = () => {
        while (sent < total) {
          const written = client.write(body.subarray(0, Math.min(body.byteLength, total - sent)));
          sent += Math.max(written, 0);
          if (written < body.byteLength) return;
        }
      };
      pump();
      await eventually(() => received === total, 10_000, "the whole upload at the target");
      client.end();
    } finally {
      sink.stop(true);
    }
  }, 30_000);

  test("the server killed mid-stream: the open stream fails with a clear line, new connections work once it is back", async () => {
    const through = `127.0.0.1:${socks.port}`;
    const inFlight = curl("--socks5", through, `http://127.0.0.1:${web.port}/slow`);
    await eventually(
      () => releaseSlow !== undefined,
      10_000,
      "the slow request reached the target",
    );
    const port = proxy.port;
    await proxy.stop("SIGKILL");
    const broken = await inFlight;
    expect(broken.exitCode).not.toBe(0);
    await socks.waitForLines(
      /\/slow|the connection to the proxy closed|no answer to a ping/,
      1,
      5000,
    );
    proxy = await startProxy(PROXY_ARGS, TEST_HOSTS, port);
    const again = await curl("--socks5", through, `http://127.0.0.1:${web.port}/7`);
    expect(again.stderr).toBe("");
    expect(sha(again.stdout)).toBe(sha(body(7)));
    // Reconnected (more than once only if a loaded machine kept a pong late).
    expect(socks.output().match(/connected to ws:/g)?.length).toBeGreaterThanOrEqual(2);
  }, 30_000);

  test("a server that stops answering is detected by the ping timeout and its streams fail, never hang", async () => {
    const through = `127.0.0.1:${socks.port}`;
    releaseSlow = undefined;
    const inFlight = curl("--socks5", through, `http://127.0.0.1:${web.port}/slow`);
    await eventually(
      () => releaseSlow !== undefined,
      10_000,
      "the slow request reached the target",
    );
    proxy.proc.kill("SIGSTOP");
    try {
      const broken = await inFlight;
      expect(broken.exitCode).not.toBe(0);
      await socks.waitForLines(/no answer to a ping within 2000 ms/, 1, 10_000);
    } finally {
      proxy.proc.kill("SIGCONT");
      releaseHeld();
    }
  }, 30_000);
});
