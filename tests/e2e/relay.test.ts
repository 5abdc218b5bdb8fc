import { describe, expect, test } from "bun:test";
import { startBlackhole } from "../helpers/blackhole.ts";
import { randomBytes, sha256 } from "../helpers/bytes.ts";
import { useProxyAndEcho } from "../helpers/fixtures.ts";
import { startProxy } from "../helpers/proxy.ts";
import { openRawClient } from "../helpers/raw-ws.ts";
import { concat, startSourceTarget, startTcpTarget } from "../helpers/targets.ts";
import { waitUntilPeerHasRead } from "../helpers/tcp-table.ts";
import { connectThrough, openClient } from "../helpers/ws-client.ts";

const fixture = useProxyAndEcho(["--connect-timeout", "1"]);

const tcp = (port: number, target_ip = "127.0.0.1") => ({
  protocol: "tcp",
  target_ip,
  target_port: port,
});

describe("proxying", () => {
  test("binary frames reach the target as raw bytes and text frames as UTF-8", async () => {
    const sink = startTcpTarget("sink");
    const { client } = await connectThrough(fixture.proxy.url, tcp(sink.port));
    client.send(new Uint8Array([0, 255, 10, 13]));
    client.send("héllo ✓");
    const expected = concat([
      new Uint8Array([0, 255, 10, 13]),
      new TextEncoder().encode("héllo ✓"),
    ]);
    const deadline = Date.now() + 3000;
    while (concat(sink.received[0] ?? []).byteLength < expected.byteLength && Date.now() < deadline)
      await Bun.sleep(5);
    expect(concat(sink.received[0] ?? [])).toEqual(expected);
    client.close();
    sink.stop();
  });

  test("target bytes reach the client as binary frames", async () => {
    const banner = startTcpTarget((socket) => socket.write("220 ready\r\n"));
    const { client, status } = await connectThrough(fixture.proxy.url, tcp(banner.port));
    expect(status.status).toBe("connected");
    const message = await client.next();
    expect(message).toBeInstanceOf(Uint8Array);
    expect(new TextDecoder().decode(message as Uint8Array)).toBe("220 ready\r\n");
    client.close();
    banner.stop();
  });

  test("data sent right after the handshake, before the status, arrives in order", async () => {
    const client = await openClient(fixture.proxy.url);
    await client.nextJson();
    client.send(JSON.stringify(tcp(fixture.echo.port)));
    for (let i = 0; i < 100; i++) client.send(new Uint8Array([i]));
    expect((await client.nextJson()).status).toBe("connected");
    expect(await client.readBytes(100)).toEqual(Uint8Array.from({ length: 100 }, (_, i) => i));
    client.close();
  });

  test("64 MiB of random bytes in mixed frame sizes come back intact (SHA-256)", async () => {
    const total = 64 * 1024 * 1024;
    const source = randomBytes(total);
    const sentHash = sha256(source);

    const ws = new WebSocket(fixture.proxy.url);
    ws.binaryType = "arraybuffer";
    const received = new Bun.CryptoHasher("sha256");
    let receivedBytes = 0;
    let phase = 0;
    const done = new Promise<void>((resolve, reject) => {
      ws.onmessage = (event) => {
        if (phase < 2) {
          phase++;
          if (phase === 1) ws.send(JSON.stringify(tcp(fixture.echo.port)));
          else if (JSON.parse(event.data as string).status !== "connected")
            reject(new Error(String(event.data)));
          else void send();
          return;
        }
        const bytes = new Uint8Array(event.data as ArrayBuffer);
        received.update(bytes);
        receivedBytes += bytes.byteLength;
        if (receivedBytes === total) resolve();
      };
      ws.onclose = (event) => reject(new Error(`closed early: ${event.code}`));
    });
    const sizes = [1, 7, 100, 1500, 4096, 65536, 300_000, 1024 * 1024];
    const send = async () => {
      let offset = 0;
      let i = 0;
      while (offset < total) {
        const size = Math.min(sizes[i++ % sizes.length] as number, total - offset);
        ws.send(source.subarray(offset, offset + size));
        offset += size;
        while (ws.bufferedAmount > 4 * 1024 * 1024) await Bun.sleep(1);
      }
    };
    await done;
    expect(receivedBytes).toBe(total);
    expect(received.digest("hex")).toBe(sentHash);
    ws.onclose = null;
    ws.close();
  }, 60_000);
});

describe("closing", () => {
  test("target end of stream: every byte is delivered, then close 1000", async () => {
    const size = 8 * 1024 * 1024;
    const data = randomBytes(size);
    const downloader = startSourceTarget(data);
    const { client } = await connectThrough(fixture.proxy.url, tcp(downloader.port));
    const bytes = await client.readBytes(size, 20_000);
    expect(Bun.hash(bytes)).toBe(Bun.hash(data));
    expect((await client.closed).code).toBe(1000);
    downloader.stop();
  }, 30_000);

  test("target reset: bytes already read are delivered, then close 1011", async () => {
    const resetter = startTcpTarget((socket) => {
      socket.write("last words");
      // Reset only once the proxy has read the bytes: a reset can discard unread ones.
      void waitUntilPeerHasRead(socket.localPort, socket.remotePort).then(() => socket.terminate());
    });
    const { client } = await connectThrough(fixture.proxy.url, tcp(resetter.port));
    expect(new TextDecoder().decode(await client.readBytes(10))).toBe("last words");
    expect((await client.closed).code).toBe(1011);
    resetter.stop();
  });

  test("client close: the target gets every byte, then end of stream", async () => {
    const sink = startTcpTarget("sink");
    const { client } = await connectThrough(fixture.proxy.url, tcp(sink.port));
    const chunk = randomBytes(256 * 1024);
    for (let i = 0; i < 16; i++) client.send(chunk);
    client.close(1000);
    await sink.closedConnections(1, 10_000);
    const received = concat(sink.received[0] ?? []);
    expect(received.byteLength).toBe(16 * chunk.byteLength);
    expect(received.subarray(15 * chunk.byteLength)).toEqual(chunk);
    sink.stop();
  }, 20_000);

  test("client lost without a close frame: the target gets its bytes, then end of stream", async () => {
    const sink = startTcpTarget("sink");
    const client = await openRawClient(fixture.proxy.port);
    await client.waitFor(() => client.texts.length === 1);
    client.sendText(JSON.stringify(tcp(sink.port)));
    await client.waitFor(() => client.texts.length === 2);
    client.sendText("last words");
    // FIN without a WebSocket close frame: the connection is simply gone.
    client.end();
    await sink.closedConnections(1, 10_000);
    expect(new TextDecoder().decode(concat(sink.received[0] ?? []))).toBe("last words");
    sink.stop();
  });

  test("a target that never accepts gets connect_timeout, 4504", async () => {
    const blackhole = await startBlackhole();
    const started = performance.now();
    const { client, status } = await connectThrough(fixture.proxy.url, tcp(blackhole.port));
    expect(status).toMatchObject({ status: "error", error: "connect_timeout" });
    expect(await client.closed).toEqual({ code: 4504, reason: "connect_timeout" });
    expect(performance.now() - started).toBeGreaterThan(900);
    await blackhole.stop();
  }, 15_000);

  test("messages above --max-message-size close with 1009", async () => {
    const small = await startProxy(["--max-message-size", "65536"]);
    const { client } = await connectThrough(small.url, tcp(fixture.echo.port));
    client.send(new Uint8Array(65536));
    expect((await client.readBytes(65536)).byteLength).toBe(65536);
    client.send(new Uint8Array(65537));
    expect((await client.closed).code).toBe(1009);
    await small.stop();
  });
});
