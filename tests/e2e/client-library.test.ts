import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, Socket2WebError } from "../../src/client/index.ts";
import { randomBytes, sha256 } from "../helpers/bytes.ts";
import { useProxyAndEcho } from "../helpers/fixtures.ts";
import { startFloodTarget } from "../helpers/flood.ts";
import { KERNEL_IN_FLIGHT } from "../helpers/kernel-buffers.ts";
import { closedPort } from "../helpers/ports.ts";
import { startProxy } from "../helpers/proxy.ts";
import { eventually, readAll, readExactly } from "../helpers/streams.ts";
import { concat, startTcpTarget } from "../helpers/targets.ts";

const fixture = useProxyAndEcho();

const tcp = (target_ip: string, target_port: number) => ({
  protocol: "tcp",
  target_ip,
  target_port,
});

async function rejection(promise: Promise<unknown>): Promise<Socket2WebError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof Socket2WebError))
    throw new Error(`expected a Socket2WebError, got ${String(error)}`);
  return error;
}

describe("client library in Bun", () => {
  test("echoes 1 MiB intact and reports the status (URL form: no greeting to report)", async () => {
    const connection = await connect(fixture.proxy.url, tcp("127.0.0.1", fixture.echo.port));
    expect(connection.status).toMatchObject({
      status: "connected",
      protocol: "tcp",
      target_port: fixture.echo.port,
    });
    expect(connection.handshake).toBe("url");
    expect(connection.supportedProtocols()).toEqual({});
    const data = randomBytes(1024 * 1024);
    const reader = connection.readable.getReader();
    const received = readExactly(reader, data.byteLength);
    const writer = connection.writable.getWriter();
    for (let offset = 0; offset < data.byteLength; offset += 100_000) {
      await writer.write(data.subarray(offset, offset + 100_000));
    }
    expect(sha256(await received)).toBe(sha256(data));
    connection.close();
    expect((await connection.closed).code).toBe(1000);
    expect(await reader.read()).toEqual({ done: true, value: undefined });
  });

  test("delivers the target's last bytes, then ends the readable on 1000", async () => {
    const target = startTcpTarget((socket) => {
      socket.write("bye");
      socket.end();
    });
    try {
      const connection = await connect(fixture.proxy.url, tcp("127.0.0.1", target.port));
      expect(new TextDecoder().decode(await readAll(connection.readable))).toBe("bye");
      expect((await connection.closed).code).toBe(1000);
    } finally {
      target.stop();
    }
  });

  test.each([
    ["connect_failed", 4502, async () => tcp("127.0.0.1", await closedPort())],
    ["invalid_handshake", 4400, async () => tcp("127.0.0.1", 0)],
    [
      "unsupported_protocol",
      4400,
      async () => ({ ...tcp("127.0.0.1", fixture.echo.port), protocol: "TCP" }),
    ],
  ])("rejects with %s and close code %d", async (code, closeCode, handshake) => {
    const error = await rejection(connect(fixture.proxy.url, await handshake()));
    expect(error.code).toBe(code as Socket2WebError["code"]);
    expect(error.closeCode).toBe(closeCode);
    expect(error.reason.length).toBeGreaterThan(0);
    expect(error.isServerError).toBe(true);
  });

  // 0.0.0.0 (unspecified) is denied by the built-in policy, with no rules configured.
  test("rejects a built-in denied target with forbidden (4403)", async () => {
    const error = await rejection(connect(fixture.proxy.url, tcp("0.0.0.0", 80)));
    expect(error.code).toBe("forbidden");
    expect(error.closeCode).toBe(4403);
  });

  test("a refused WebSocket is a network_error", async () => {
    const error = await rejection(
      connect(`ws://127.0.0.1:${await closedPort()}`, tcp("127.0.0.1", 1)),
    );
    expect(error.code).toBe("network_error");
    expect(error.isServerError).toBe(false);
  });

  describe("against a server that never greets", () => {
    let silent: ReturnType<typeof Bun.serve>;
    beforeAll(() => {
      silent = Bun.serve({
        hostname: "127.0.0.1",
        port: 0,
        fetch: (request, server) =>
          server.upgrade(request, { data: undefined })
            ? undefined
            : new Response("no", { status: 400 }),
        websocket: { message() {} },
      });
    });
    afterAll(() => {
      silent.stop(true);
    });

    test("times out with timeout", async () => {
      const started = Date.now();
      const error = await rejection(
        connect(`ws://127.0.0.1:${silent.port}`, { ...tcp("127.0.0.1", 1), timeout: 300 }),
      );
      expect(error.code).toBe("timeout");
      expect(Date.now() - started).toBeLessThan(2000);
    });

    test("aborts with aborted", async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error("user gave up")), 100);
      const error = await rejection(
        connect(`ws://127.0.0.1:${silent.port}`, {
          ...tcp("127.0.0.1", 1),
          signal: controller.signal,
        }),
      );
      expect(error.code).toBe("aborted");
      expect(error.reason).toBe("user gave up");
    });
  });

  test("an abort after connected closes the connection and errors the readable", async () => {
    const controller = new AbortController();
    const connection = await connect(fixture.proxy.url, {
      ...tcp("127.0.0.1", fixture.echo.port),
      signal: controller.signal,
    });
    controller.abort();
    const error = await rejection(readAll(connection.readable));
    expect(error.code).toBe("aborted");
    expect((await connection.closed).code).toBe(1000);
  });

  test("a server at capacity is a closed error with 1013", async () => {
    const small = await startProxy(["--max-connections", "1"]);
    try {
      const first = await connect(small.url, tcp("127.0.0.1", fixture.echo.port));
      const error = await rejection(connect(small.url, tcp("127.0.0.1", fixture.echo.port)));
      expect(error.code).toBe("closed");
      expect(error.closeCode).toBe(1013);
      first.close();
    } finally {
      await small.stop();
    }
  });

  test("stops reading while the reader is behind, then delivers everything", async () => {
    // More than the kernel buffers can hold, so only flow control can hold the flood back.
    const total = KERNEL_IN_FLIGHT + 16 * 1024 * 1024;
    const flood = startFloodTarget(total);
    try {
      const connection = await connect(fixture.proxy.url, {
        ...tcp("127.0.0.1", flood.port),
        readableHighWaterMark: 256 * 1024,
      });
      await Bun.sleep(1000);
      // Without pausing, loopback delivers all of it within that second.
      expect(connection.bytesReceived).toBeLessThan(total / 2);
      expect(flood.sent()).toBeLessThan(total);
      expect(connection.queuedBytes).toBeLessThan(8 * 1024 * 1024);
      const all = await readAll(connection.readable, 20_000);
      expect(all.byteLength).toBe(total);
      expect((await connection.closed).code).toBe(1000);
    } finally {
      flood.stop();
    }
  }, 30_000);

  test("write() waits while the target does not read (writable backpressure)", async () => {
    let held: { resume(): void } | undefined;
    const slow = startTcpTarget((socket) => {
      socket.pause();
      held = socket;
    });
    try {
      const connection = await connect(fixture.proxy.url, tcp("127.0.0.1", slow.port));
      const writer = connection.writable.getWriter();
      const chunk = new Uint8Array(64 * 1024).fill(1);
      const total = KERNEL_IN_FLIGHT + 16 * 1024 * 1024;
      let written = 0;
      const writing = (async () => {
        while (written < total) {
          await writer.write(chunk);
          written += chunk.byteLength;
        }
      })();
      await Bun.sleep(1000);
      // Held to the kernel buffers plus the library's and the proxy's bounds (about 2 MiB).
      expect(written).toBeLessThan(KERNEL_IN_FLIGHT + 8 * 1024 * 1024);
      held?.resume();
      await writing;
      await eventually(
        () => concat(slow.received[0] ?? []).byteLength === total,
        15_000,
        "all bytes at the target",
      );
      connection.close();
    } finally {
      slow.stop();
    }
  }, 30_000);
});
