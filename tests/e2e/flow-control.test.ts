import { describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { KERNEL_IN_FLIGHT } from "../helpers/kernel-buffers.ts";
import { patternChecker } from "../helpers/pattern.ts";
import { startProxy } from "../helpers/proxy.ts";
import { openRawClient } from "../helpers/raw-ws.ts";

/**
 * The proxy's resident memory must stay under this while one side refuses to read and the other
 * floods. Alone it peaks near 55 MiB (the runtime, plus about 1 MiB of backlog each way); the margin
 * is for garbage collection running late on a loaded machine. Without flow control the same floods
 * queue over 500 MiB inside the proxy.
 */
const RSS_BOUND = 160 * 1024 * 1024;
const MiB = 1024 * 1024;

/** The proxy's own per-connection bound (1 MiB each way) plus one read chunk, with margin. */
const PROXY_IN_FLIGHT = 4 * MiB;

/** Byte i of a stream is i mod 251: any loss, duplication or reordering breaks the pattern. */
const PATTERN_LENGTH = 251 * 4096;
const pattern = Uint8Array.from({ length: PATTERN_LENGTH }, (_, i) => i % 251);

describe("end-to-end flow control", () => {
  test("a client that stops reading while the target floods: RSS stays bounded, nothing is lost", async () => {
    const proxy = await startProxy();
    let written = 0;
    const FLOOD_LIMIT = 1024 * MiB;
    const flood = (socket: Socket<unknown>) => {
      for (let i = 0; i < 64 && written < FLOOD_LIMIT; i++) {
        const offset = written % 251;
        const n = socket.write(pattern.subarray(offset, offset + 64 * 1024));
        written += Math.max(n, 0);
        if (n < 64 * 1024) return;
      }
      // Yield to I/O between bursts; drain restarts the flood when the kernel buffer was full.
      if (written < FLOOD_LIMIT) setImmediate(() => flood(socket));
    };
    const target = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: { open: flood, drain: flood, data() {}, error() {} },
    });
    const checker = patternChecker();
    const client = await openRawClient(proxy.port, (chunk) => checker.check(chunk));
    await client.waitFor(() => client.texts.length === 1);
    client.sendText(
      JSON.stringify({ protocol: "tcp", target_ip: "127.0.0.1", target_port: target.port }),
    );
    await client.waitFor(() => checker.position > 4 * MiB);
    client.pause();

    let peakRss = 0;
    for (let i = 0; i < 20; i++) {
      await Bun.sleep(100);
      peakRss = Math.max(peakRss, proxy.rss());
    }
    const writtenWhilePaused = written;
    await Bun.sleep(300);
    // The target is stalled too: flow control reached it through the proxy.
    expect(written).toBe(writtenWhilePaused);
    expect(written - checker.position).toBeLessThan(KERNEL_IN_FLIGHT + PROXY_IN_FLIGHT);
    expect(peakRss).toBeLessThan(RSS_BOUND);

    client.resume();
    const goal = written + 16 * MiB;
    await client.waitFor(() => checker.position >= goal, 20_000);
    expect(checker.broken).toBe(-1);
    client.end();
    target.stop(true);
    await proxy.stop();
  }, 30_000);

  test("a target that stops reading while the client floods: RSS stays bounded, nothing is lost", async () => {
    const proxy = await startProxy();
    const checker = patternChecker();
    let targetSocket: Socket<unknown> | undefined;
    const target = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(socket) {
          targetSocket = socket;
          socket.pause();
        },
        data(_socket, chunk) {
          checker.check(chunk);
        },
        error() {},
      },
    });
    const ws = new WebSocket(proxy.url);
    let phase = 0;
    await new Promise<void>((resolve, reject) => {
      ws.onmessage = (event) => {
        phase++;
        if (phase === 1)
          ws.send(
            JSON.stringify({ protocol: "tcp", target_ip: "127.0.0.1", target_port: target.port }),
          );
        else if (JSON.parse(String(event.data)).status === "connected") resolve();
        else reject(new Error(String(event.data)));
      };
    });

    let sent = 0;
    let peakRss = 0;
    const floodUntil = Date.now() + 2000;
    while (Date.now() < floodUntil) {
      while (ws.bufferedAmount < 8 * MiB && sent < 512 * MiB) {
        const offset = sent % 251;
        ws.send(pattern.subarray(offset, offset + 64 * 1024));
        sent += 64 * 1024;
      }
      await Bun.sleep(20);
      peakRss = Math.max(peakRss, proxy.rss());
    }
    // The client was held back: no more than the kernel buffers, the proxy's bound and the
    // client's own 8 MiB window got out (without flow control it sends its 512 MiB cap).
    expect(sent).toBeLessThan(KERNEL_IN_FLIGHT + PROXY_IN_FLIGHT + 8 * MiB);
    expect(peakRss).toBeLessThan(RSS_BOUND);
    expect(checker.position).toBe(0);

    targetSocket?.resume();
    const deadline = Date.now() + 20_000;
    while (checker.position < sent && Date.now() < deadline) await Bun.sleep(10);
    expect(checker.position).toBe(sent);
    expect(checker.broken).toBe(-1);
    ws.close();
    target.stop(true);
    await proxy.stop();
  }, 30_000);
});
