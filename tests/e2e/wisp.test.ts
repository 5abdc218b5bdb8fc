// Wisp and wsproxy against the real server process (`--wisp /wisp/`), with the unmodified wisp-js client.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { extensions } from "@mercuryworkshop/wisp-js/client";
import { SignJWT } from "jose";
import { builtinAdapters } from "../../src/adapters/index.ts";
import { WispClose } from "../../src/protocol/wisp-close.ts";
import { readExtensions } from "../../src/wisp/packet.ts";
import { randomBytes, sha256 } from "../helpers/bytes.ts";
import { type RunningProxy, runProxyCommand, startProxy } from "../helpers/proxy.ts";
import { concat, startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { tempDir } from "../helpers/tls-cert.ts";
import { upgradeAnswer, upgradeStatusAt } from "../helpers/upgrade-answer.ts";
import { isClose, openRawWisp } from "../wisp/raw-wisp.ts";
import { connectWisp, openStream, sendAll, until } from "../wisp/wisp-client.ts";

const TOKEN = "wisp-token-1234";
const SECRET = "wisp-ticket-secret-of-at-least-32-bytes";

let echo: TcpTarget;
let other: TcpTarget;
beforeAll(() => {
  echo = startTcpTarget("echo");
  other = startTcpTarget("echo");
});
afterAll(() => {
  echo.stop();
  other.stop();
});

const wispUrl = (proxy: RunningProxy, rest = "") => `${proxy.url}/wisp/${rest}`;
const password = (secret: string) =>
  new extensions.PasswordAuthExtension({ client_config: { username: "", password: secret } });

describe("--wisp on the real server", () => {
  let proxy: RunningProxy;
  beforeAll(async () => {
    proxy = await startProxy([
      "--wisp",
      "/wisp/",
      "--deny",
      `127.0.0.1:${other.port}`,
      "--wisp-max-streams",
      "8",
    ]);
  });
  afterAll(() => proxy.stop());

  test("8 streams on one connection, SHA-256 checked both ways; one log line per stream", async () => {
    const connection = await connectWisp(wispUrl(proxy));
    const size = 512 * 1024;
    const streams = Array.from({ length: 8 }, () => {
      const data = randomBytes(size);
      const open = openStream(connection, "127.0.0.1", echo.port);
      sendAll(open.stream, data, 32 * 1024);
      return { data, open };
    });
    await Promise.all(streams.map(({ open }) => open.received(size)));
    for (const { data, open } of streams) expect(sha256(concat(open.chunks))).toBe(sha256(data));
    for (const { open } of streams) open.stream.close(WispClose.voluntary);
    const line =
      /session \d+ 127\.0\.0\.1:\d+ wisp (\d+) stream \d+ -> tcp 127\.0\.0\.1:\d+ up 512\.0 KiB down 512\.0 KiB/g;
    await until(() => (proxy.output().match(line) ?? []).length >= 8, "a log line per stream");
    const connections = new Set([...proxy.output().matchAll(line)].map((m) => m[1]));
    expect(connections.size).toBe(1);
    connection.close();
  });

  test("the protocol's socket2web greeting is still served on other paths", async () => {
    const ws = new WebSocket(proxy.url);
    const first = await new Promise<string>((resolve) => {
      ws.onmessage = (event) => resolve(String(event.data));
    });
    expect(JSON.parse(first)).toHaveProperty("supported protocols");
    ws.close();
  });

  test("a denied target is CLOSE 0x48; the ninth stream is CLOSE 0x49", async () => {
    const connection = await connectWisp(wispUrl(proxy));
    expect(await openStream(connection, "127.0.0.1", other.port).closed).toBe(WispClose.blocked);
    const open = Array.from({ length: 8 }, () => openStream(connection, "127.0.0.1", echo.port));
    for (const stream of open) {
      stream.stream.send(Uint8Array.of(1));
      await stream.received(1);
    }
    expect(await openStream(connection, "127.0.0.1", echo.port).closed).toBe(WispClose.throttled);
    connection.close();
  });

  test("wsproxy: PREFIX/host:port is one TCP connection with raw bytes", async () => {
    const ws = new WebSocket(wispUrl(proxy, `127.0.0.1:${echo.port}`));
    ws.binaryType = "arraybuffer";
    const data = randomBytes(200_000);
    const received: Uint8Array[] = [];
    let total = 0;
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => ws.send(data);
      ws.onmessage = (event) => {
        received.push(new Uint8Array(event.data as ArrayBuffer));
        total += (event.data as ArrayBuffer).byteLength;
        if (total >= data.byteLength) resolve();
      };
      ws.onclose = (event) => reject(new Error(`closed ${event.code}`));
    });
    expect(sha256(concat(received))).toBe(sha256(data));
    ws.close();
  });

  test("wsproxy to a denied target closes with 4403 and never connects", async () => {
    const before = other.received.length;
    const ws = new WebSocket(wispUrl(proxy, `127.0.0.1:${other.port}`));
    const code = await new Promise<number>((resolve) => {
      ws.onclose = (event) => resolve(event.code);
    });
    expect(code).toBe(4403);
    expect(other.received.length).toBe(before);
  });
});

describe("credentials", () => {
  let proxy: RunningProxy;
  beforeAll(async () => {
    const dir = tempDir();
    const tokens = join(dir, "tokens");
    await Bun.write(tokens, `${TOKEN}\n`);
    proxy = await startProxy(["--wisp", "/wisp/", "--auth-token-file", tokens]);
  });
  afterAll(() => proxy.stop());

  test("Wisp 2: the token as the password opens; a wrong one is refused (0xc0)", async () => {
    const good = await connectWisp(wispUrl(proxy), { wisp_extensions: [password(TOKEN)] });
    const open = openStream(good, "127.0.0.1", echo.port);
    open.stream.send(Uint8Array.of(5));
    await open.received(1);
    good.close();
    const peer = await openRawWisp(wispUrl(proxy), ["wisp-v2"]);
    const info = await peer.next((p) => p.type === "info");
    // Password authentication (0x02) is offered, beside UDP (0x01) where the udp adapter is on.
    const ids = readExtensions((info as { extensionBytes: Uint8Array }).extensionBytes).map(
      (e) => e.id,
    );
    expect(ids).toContain(2);
    await expect(
      connectWisp(wispUrl(proxy), { wisp_extensions: [password("wrong")] }),
    ).rejects.toThrow();
  });

  test("Wisp 1: the token in the path or an Authorization header; none is 401", async () => {
    const inPath = await connectWisp(wispUrl(proxy, `${TOKEN}/`), { wisp_version: 1 });
    const open = openStream(inPath, "127.0.0.1", echo.port);
    open.stream.send(Uint8Array.of(6));
    await open.received(1);
    inPath.close();
    expect(await upgradeStatusAt(proxy.port, "/wisp/")).toBe(401);
    const wrong = await upgradeAnswer(proxy.port, "/wisp/wrong/");
    expect(wrong.status).toBe(401);
    expect(wrong.body).toContain("a valid credential is required: the one given is not valid");
    expect(await upgradeStatusAt(proxy.port, "/wisp/", { Authorization: `Bearer ${TOKEN}` })).toBe(
      101,
    );
  });
});

describe("tickets narrow every stream", () => {
  test("a stream outside the ticket's allow rules is CLOSE 0x48", async () => {
    const proxy = await startProxy(["--wisp", "/wisp/", "--ticket-secret", SECRET]);
    try {
      const ticket = await new SignJWT({ allow: [`127.0.0.1:${echo.port}`] })
        .setProtectedHeader({ alg: "HS256" })
        .setExpirationTime("5m")
        .sign(new TextEncoder().encode(SECRET));
      const connection = await connectWisp(wispUrl(proxy), { wisp_extensions: [password(ticket)] });
      const allowed = openStream(connection, "127.0.0.1", echo.port);
      allowed.stream.send(Uint8Array.of(1));
      await allowed.received(1);
      expect(await openStream(connection, "127.0.0.1", other.port).closed).toBe(WispClose.blocked);
      connection.close();
    } finally {
      await proxy.stop();
    }
  });
});

describe("limits and clocks", () => {
  test("--max-connections counts WebSockets, not streams", async () => {
    const proxy = await startProxy(["--wisp", "/wisp/", "--max-connections", "1"]);
    try {
      const connection = await connectWisp(wispUrl(proxy));
      const open = Array.from({ length: 3 }, () => openStream(connection, "127.0.0.1", echo.port));
      for (const stream of open) {
        stream.stream.send(Uint8Array.of(1));
        await stream.received(1);
      }
      const second = await openRawWisp(wispUrl(proxy));
      expect((await second.closed).code).toBe(1013);
      connection.close();
    } finally {
      await proxy.stop();
    }
  });

  test("--idle-timeout ends an idle stream (0x47) while the connection carries on", async () => {
    const proxy = await startProxy(["--wisp", "/wisp/", "--idle-timeout", "1"]);
    try {
      const connection = await connectWisp(wispUrl(proxy));
      const idle = openStream(connection, "127.0.0.1", echo.port);
      idle.stream.send(Uint8Array.of(1));
      await idle.received(1);
      expect(await idle.closed).toBe(WispClose.transferTimeout);
      const fresh = openStream(connection, "127.0.0.1", echo.port);
      fresh.stream.send(Uint8Array.of(2));
      await fresh.received(1);
      connection.close();
    } finally {
      await proxy.stop();
    }
  });

  test("--idle-timeout closes a connection with no stream open with 4001", async () => {
    const proxy = await startProxy(["--wisp", "/wisp/", "--idle-timeout", "1"]);
    try {
      const peer = await openRawWisp(wispUrl(proxy));
      expect((await peer.closed).code).toBe(4001);
    } finally {
      await proxy.stop();
    }
  });

  test("--max-lifetime closes the connection with 4000", async () => {
    const proxy = await startProxy(["--wisp", "/wisp/", "--max-lifetime", "1"]);
    try {
      const peer = await openRawWisp(wispUrl(proxy));
      expect((await peer.closed).code).toBe(4000);
    } finally {
      await proxy.stop();
    }
  });

  test("shutdown closes the streams and the WebSocket with 1001", async () => {
    const proxy = await startProxy(["--wisp", "/wisp/"]);
    const peer = await openRawWisp(wispUrl(proxy));
    await peer.next((p) => p.type === "continue");
    proxy.proc.kill("SIGTERM");
    expect((await peer.closed).code).toBe(1001);
    expect(await proxy.proc.exited).toBe(0);
    expect(peer.packets.filter(isClose(0))).toEqual([]);
  });
});

describe("metrics", () => {
  test("every stream counts as a session, with its bytes", async () => {
    const proxy = await startProxy(["--wisp", "/wisp/", "--metrics"]);
    try {
      const connection = await connectWisp(wispUrl(proxy));
      const streams = Array.from({ length: 3 }, () =>
        openStream(connection, "127.0.0.1", echo.port),
      );
      for (const stream of streams) {
        stream.stream.send(new Uint8Array(1000));
        await stream.received(1000);
        stream.stream.close(WispClose.voluntary);
      }
      const total = async () => {
        const text = await (await fetch(`http://127.0.0.1:${proxy.port}/metrics`)).text();
        return [...text.matchAll(/^socket2web_sessions_total\{[^}]*\} (\d+)/gm)].reduce(
          (sum, m) => sum + Number(m[1]),
          0,
        );
      };
      let sessions = 0;
      // Bounded: the streams' sessions end as the server reads each CLOSE.
      for (let i = 0; i < 50 && sessions < 3; i++) {
        sessions = await total();
        if (sessions < 3) await Bun.sleep(20);
      }
      expect(sessions).toBe(3);
      connection.close();
    } finally {
      await proxy.stop();
    }
  });
});

describe("--wisp values", () => {
  test.each(["wisp", "/wisp", "/", "/healthz/", "/a b/"])(
    "--wisp %p exits 2 saying what it expects",
    async (value) => {
      const run = await runProxyCommand(["--wisp", value, "--port", "8080"]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("--wisp expects a path prefix such as /wisp/");
    },
  );
});

describe.skipIf(!builtinAdapters.some((adapter) => adapter.name === "udp"))("UDP streams", () => {
  test("each DATA is one datagram both ways, boundaries kept; INFO offers UDP", async () => {
    const echoUdp = await Bun.udpSocket({
      hostname: "127.0.0.1",
      socket: {
        data(socket, data, port, address) {
          socket.send(data, port, address);
        },
      },
    });
    const proxy = await startProxy(["--wisp", "/wisp/"]);
    try {
      const connection = await connectWisp(wispUrl(proxy));
      expect(connection.udp_enabled).toBe(true);
      const open = openStream(connection, "127.0.0.1", echoUdp.port, "udp");
      const sizes = [1, 100, 1200, 9000];
      for (const size of sizes) open.stream.send(new Uint8Array(size).fill(size % 251));
      await open.received(sizes.reduce((a, b) => a + b, 0));
      expect(open.chunks.map((chunk) => chunk.byteLength).sort((a, b) => a - b)).toEqual(sizes);
      connection.close();
    } finally {
      echoUdp.close();
      await proxy.stop();
    }
  });
});
