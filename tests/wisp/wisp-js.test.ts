// The unmodified npm wisp-js client against Socket2Web's Wisp connection logic.
import { afterAll, describe, expect, test } from "bun:test";
import { extensions } from "@mercuryworkshop/wisp-js/client";
import type { Socket } from "bun";
import { createPolicy } from "../../src/policy/policy.ts";
import { parseRule } from "../../src/policy/rule.ts";
import { WispClose } from "../../src/protocol/wisp-close.ts";
import { WISP_CREDIT } from "../../src/wisp/credit.ts";
import { randomBytes, sha256 } from "../helpers/bytes.ts";
import { closedPort } from "../helpers/ports.ts";
import { concat, startSourceTarget, startTcpTarget } from "../helpers/targets.ts";
import { startWispHost } from "./host.ts";
import { connectWisp, openStream, sendAll, until } from "./wisp-client.ts";

const echo = startTcpTarget("echo");
const host = startWispHost();

afterAll(() => {
  host.stop();
  echo.stop();
});

describe("wisp-js client, unmodified", () => {
  test("negotiates Wisp 2 when it offers the subprotocol, Wisp 1 when it does not", async () => {
    const v2 = await connectWisp(host.url);
    expect(v2.wisp_version).toBe(2);
    expect(v2.max_buffer_size).toBe(WISP_CREDIT.initial);
    // No UDP adapter in this host: the INFO does not offer it and the client knows.
    expect(v2.udp_enabled).toBe(false);
    v2.close();
    const v1 = await connectWisp(host.url, { wisp_version: 1 });
    expect(v1.wisp_version).toBe(1);
    expect(v1.max_buffer_size).toBe(WISP_CREDIT.initial);
    v1.close();
  });

  test.each([2, 1] as const)(
    "Wisp %i: 50 concurrent TCP streams on one WebSocket, SHA-256 checked both ways",
    async (version) => {
      const connection = await connectWisp(host.url, { wisp_version: version });
      const size = 256 * 1024;
      const before = echo.received.length;
      const streams = Array.from({ length: 50 }, () => {
        const data = randomBytes(size);
        const open = openStream(connection, "127.0.0.1", echo.port);
        sendAll(open.stream, data, 16 * 1024);
        return { data, open };
      });
      await Promise.all(streams.map(({ open }) => open.received(size)));
      for (const { data, open } of streams) {
        expect(sha256(concat(open.chunks))).toBe(sha256(data));
      }
      // What the targets got is what the client sent (each echo connection holds one stream).
      const targetHashes = new Set(
        echo.received.slice(before).map((chunks) => sha256(concat(chunks))),
      );
      for (const { data } of streams) expect(targetHashes.has(sha256(data))).toBe(true);
      connection.close();
    },
    30_000,
  );

  test("a refused port closes only that stream, with 0x44", async () => {
    const connection = await connectWisp(host.url);
    const refused = openStream(connection, "127.0.0.1", await closedPort());
    const fine = openStream(connection, "127.0.0.1", echo.port);
    expect(await refused.closed).toBe(WispClose.refused);
    fine.stream.send(new TextEncoder().encode("still here"));
    await fine.received(10);
    connection.close();
  });

  test("a target the policy denies is closed with 0x48 and never connected", async () => {
    const denied = startTcpTarget("echo");
    const strict = startWispHost({
      policy: createPolicy({ allow: [], deny: [parseRule(`127.0.0.1:${denied.port}`)] }),
    });
    try {
      const connection = await connectWisp(strict.url);
      const open = openStream(connection, "127.0.0.1", denied.port);
      expect(await open.closed).toBe(WispClose.blocked);
      // The same host name form is checked after resolution too.
      const byName = openStream(connection, "localhost", denied.port);
      expect(await byName.closed).toBe(WispClose.blocked);
      expect(denied.received.length).toBe(0);
      connection.close();
    } finally {
      strict.stop();
      denied.stop();
    }
  });

  test("an invalid host and port 0 are refused with 0x41", async () => {
    const connection = await connectWisp(host.url);
    expect(await openStream(connection, "999.1.1.1", echo.port).closed).toBe(WispClose.invalid);
    expect(await openStream(connection, "127.0.0.1", 0).closed).toBe(WispClose.invalid);
    connection.close();
  });

  test("the target's end of stream delivers every byte, then CLOSE 0x02", async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const source = startSourceTarget(data);
    try {
      const connection = await connectWisp(host.url);
      const open = openStream(connection, "127.0.0.1", source.port);
      expect(await open.closed).toBe(WispClose.voluntary);
      expect(sha256(concat(open.chunks))).toBe(sha256(data));
      connection.close();
    } finally {
      source.stop();
    }
  });

  test("the client's CLOSE ends only that stream, after its bytes reach the target", async () => {
    const sink = startTcpTarget("sink");
    try {
      const connection = await connectWisp(host.url);
      const closing = openStream(connection, "127.0.0.1", sink.port);
      const other = openStream(connection, "127.0.0.1", echo.port);
      const data = randomBytes(2 * 1024 * 1024);
      sendAll(closing.stream, data, 32 * 1024);
      // The client may still hold some of it for want of credit; close once it has sent all.
      await until(() => closing.stream.send_buffer.length === 0, "the client to send everything");
      closing.stream.close(WispClose.voluntary);
      await sink.closedConnections(1);
      expect(sha256(concat(sink.received[0] ?? []))).toBe(sha256(data));
      other.stream.send(new TextEncoder().encode("other stream"));
      await other.received(12);
      connection.close();
    } finally {
      sink.stop();
    }
  });

  test("a target that does not read holds at most the advertised packets on the server", async () => {
    const stalled: Socket<unknown>[] = [];
    const target = startTcpTarget((socket) => {
      socket.pause();
      stalled.push(socket as unknown as Socket<unknown>);
    });
    const small = startWispHost({ credit: { initial: 16, most: 16, bytes: 16 * 64 * 1024 } });
    try {
      const connection = await connectWisp(small.url);
      const open = openStream(connection, "127.0.0.1", target.port);
      const chunk = 64 * 1024;
      const sent: Uint8Array[] = [];
      // Send until the client has run out of credit and queues locally; the kernel's buffers
      // take some first, the server's 16 packets the rest.
      for (let i = 0; i < 4096 && open.stream.send_buffer.length < 64; i++) {
        const piece = randomBytes(chunk);
        sent.push(piece);
        open.stream.send(piece);
        if (i % 16 === 15) await Bun.sleep(1);
      }
      expect(open.stream.send_buffer.length).toBeGreaterThan(0);
      const [connectionOnServer] = small.connections;
      const held = connectionOnServer?.streamStates() ?? [];
      expect(held).toHaveLength(1);
      expect(held[0]?.packets ?? 0).toBeLessThanOrEqual(16);
      expect(held[0]?.bytes ?? 0).toBeLessThanOrEqual(16 * chunk);
      // The target reads again: every byte arrives, in order, through fresh CONTINUEs.
      for (const socket of stalled) socket.resume();
      const total = sent.length * chunk;
      await until(
        () => (target.received[0] ?? []).reduce((n, c) => n + c.byteLength, 0) >= total,
        "the target to get everything",
        20_000,
      );
      expect(sha256(concat(target.received[0] ?? []))).toBe(sha256(...sent));
      connection.close();
    } finally {
      small.stop();
      target.stop();
    }
  }, 30_000);

  test("a client that stops reading stops its targets being read; memory stays bounded", async () => {
    const size = 48 * 1024 * 1024;
    const sources = [startCountingSource(size), startCountingSource(size)];
    const flow = { highWater: 1024 * 1024, lowWater: 256 * 1024 };
    const bounded = startWispHost({ flow });
    try {
      const connection = await connectWisp(bounded.url);
      // The wisp-js client's own WebSocket (the `ws` package) stops reading: a page gone slow.
      (connection.ws as unknown as { pause(): void }).pause();
      const open = sources.map((source) => openStream(connection, "127.0.0.1", source.port));
      const [server] = bounded.connections;
      // Both sources block once the server stops reading them; nothing else moves.
      await until(
        () =>
          (server?.streamStates() ?? []).filter((stream) => !stream.readingTarget).length === 2 &&
          sources.every((source) => source.blocked()),
        "both targets to be held back",
        20_000,
      );
      const buffered = server?.bufferedToClient ?? 0;
      // The WebSocket's queue: the high-water mark, plus at most a read from each target.
      expect(buffered).toBeGreaterThanOrEqual(flow.highWater);
      expect(buffered).toBeLessThanOrEqual(flow.highWater + 2 * 1024 * 1024);
      expect(sources.every((source) => source.written() < size)).toBe(true);
      // Reading again: both streams finish, whole and in order.
      (connection.ws as unknown as { resume(): void }).resume();
      await Promise.all(open.map((stream) => stream.received(size, 30_000)));
      for (const [i, stream] of open.entries()) {
        expect(sha256(concat(stream.chunks))).toBe(sources[i]?.sha256 ?? "");
      }
      connection.close();
    } finally {
      bounded.stop();
      for (const source of sources) source.stop();
    }
  }, 60_000);

  test("streams beyond --wisp-max-streams are closed with 0x49; closing one frees a slot", async () => {
    const limited = startWispHost({ maxStreams: 4 });
    try {
      const connection = await connectWisp(limited.url);
      const open = Array.from({ length: 4 }, () => openStream(connection, "127.0.0.1", echo.port));
      for (const stream of open) {
        stream.stream.send(Uint8Array.of(1));
        await stream.received(1);
      }
      const fifth = openStream(connection, "127.0.0.1", echo.port);
      expect(await fifth.closed).toBe(WispClose.throttled);
      open[0]?.stream.close(WispClose.voluntary);
      await until(
        () => (limited.connections.values().next().value?.activeStreams ?? 0) < 4,
        "a free slot",
      );
      const sixth = openStream(connection, "127.0.0.1", echo.port);
      sixth.stream.send(Uint8Array.of(2));
      await sixth.received(1);
      connection.close();
    } finally {
      limited.stop();
    }
  });

  test("Wisp 2 password authentication: the right password opens, a wrong one gets 0xc0", async () => {
    const guarded = startWispHost({ password: "open sesame" });
    try {
      const good = await connectWisp(guarded.url, {
        wisp_extensions: [
          new extensions.PasswordAuthExtension({
            client_config: { username: "anyone", password: "open sesame" },
          }),
        ],
      });
      const open = openStream(good, "127.0.0.1", echo.port);
      open.stream.send(Uint8Array.of(7));
      await open.received(1);
      good.close();
      const bad = connectWisp(guarded.url, {
        wisp_extensions: [
          new extensions.PasswordAuthExtension({
            client_config: { username: "anyone", password: "wrong" },
          }),
        ],
      });
      await expect(bad).rejects.toThrow("closed before it opened");
      const none = connectWisp(guarded.url);
      await expect(none).rejects.toThrow("closed before it opened");
    } finally {
      guarded.stop();
    }
  });
});

/** A target that writes `size` random bytes as fast as it is read, and says when it is blocked. */
function startCountingSource(size: number) {
  const data = randomBytes(size);
  let offset = 0;
  let blocked = false;
  const pump = (socket: Socket<undefined>) => {
    blocked = false;
    while (offset < size) {
      const written = socket.write(data.subarray(offset, offset + 256 * 1024));
      offset += Math.max(written, 0);
      if (written < Math.min(256 * 1024, size - offset + Math.max(written, 0))) {
        blocked = true;
        return;
      }
    }
    socket.end();
  };
  const listener = Bun.listen<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    socket: { open: pump, drain: pump, data() {}, error() {} },
  });
  return {
    port: listener.port,
    sha256: sha256(data),
    blocked: () => blocked,
    written: () => offset,
    stop: () => listener.stop(true),
  };
}
