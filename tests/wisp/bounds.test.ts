// What a Wisp connection holds for a client that misbehaves: replies to a client that never reads,
// streams that end while their targets hold what they were sent.
import { afterAll, describe, expect, test } from "bun:test";
import { WispClose } from "../../src/protocol/wisp-close.ts";
import { WISP_CREDIT } from "../../src/wisp/credit.ts";
import { encodeClose, encodeConnect, encodeData } from "../../src/wisp/packet.ts";
import { openRawClient } from "../helpers/raw-ws.ts";
import { startTcpTarget } from "../helpers/targets.ts";
import { PREFIX, startWispHost } from "./host.ts";
import { openRawWisp } from "./raw-wisp.ts";
import { until } from "./wisp-client.ts";

describe("replies to a client that never reads", () => {
  const outbound = { high: 256 * 1024, low: 64 * 1024 };
  const host = startWispHost({ outbound });
  afterAll(() => host.stop());

  test("queue up to the bound, then the server stops reading that client", async () => {
    const client = await openRawClient(host.port, () => {}, PREFIX);
    // The client reads nothing from here: every reply stays queued on the server (or in the kernel).
    client.pause();
    await until(() => host.connections.size === 1, "the Wisp connection");
    const [connection] = host.connections;
    // Each DATA names a stream never opened: each earns a CLOSE (8 bytes on the wire). Sent until
    // the server stops reading (hundreds of thousands of them: more replies than the kernel's
    // buffers of a paused reader take), never more than 1 MiB ahead of what the server took, so a
    // server slowed by a loaded machine is waited for rather than outrun.
    const most = 3_000_000;
    const payload = Uint8Array.of(1);
    let sent = 0;
    const deadline = performance.now() + 60_000;
    while (connection?.readingClient !== false && sent < most && performance.now() < deadline) {
      if (client.unsent() < 1024 * 1024) {
        for (let i = 0; i < 10_000; i++) client.sendBinary(encodeData(++sent, payload));
      }
      await Bun.sleep(client.unsent() < 1024 * 1024 ? 0 : 5);
    }
    // Whatever the server had read by now has been answered.
    await until(() => connection?.readingClient === false, "the server to stop reading");
    const buffered = connection?.bufferedToClient ?? 0;
    // The hold, plus the replies to what one read of the socket had already brought in.
    expect(buffered).toBeLessThanOrEqual(outbound.high + 512 * 1024);
    // Reading again: every packet is answered, nothing was lost, and the server reads again.
    client.resume();
    // Each CLOSE is 6 bytes; the CONTINUE on stream 0 that opened the connection, 9.
    await client.waitFor(() => client.binary.bytes >= 9 + sent * 6, 60_000);
    expect(client.binary.bytes).toBe(9 + sent * 6);
    expect(connection?.readingClient).toBe(true);
    client.end();
  }, 150_000);
});

describe("streams that end while their target does not read", () => {
  const stalledSockets: { resume(): void }[] = [];
  let stalling = true;
  const stalled = startTcpTarget((socket) => {
    if (!stalling) return;
    socket.pause();
    stalledSockets.push(socket);
  });
  const host = startWispHost({ maxStreams: 4 });
  afterAll(() => {
    host.stop();
    stalled.stop();
  });

  test("count against --wisp-max-streams and the byte bound until flushed", async () => {
    const peer = await openRawWisp(host.url);
    await peer.next((p) => p.type === "continue");
    const [connection] = host.connections;
    const bound = 4 * WISP_CREDIT.bytes;
    // Open a stream, send it 900 KiB (within its 1 MiB and its credit), close it: again and
    // again. A closed stream whose bytes wait in the server for its target keeps its place, so a
    // new stream past the 4th is refused with 0x49 and opens nothing; how many wait depends on how
    // much the kernel takes, so the test checks the bounds at every step, whatever that is.
    const packet = new Uint8Array(300 * 1024);
    const streams = 64;
    let most = 0;
    let mostHeld = 0;
    const observe = () => {
      most = Math.max(most, connection?.activeStreams ?? 0);
      mostHeld = Math.max(mostHeld, connection?.heldForTargets ?? 0);
    };
    for (let id = 1; id <= streams; id++) {
      peer.send(encodeConnect(id, 1, stalled.port, "127.0.0.1"));
      for (let i = 0; i < 3; i++) peer.send(encodeData(id, packet));
      peer.send(encodeClose(id, WispClose.voluntary));
      await Bun.sleep(0);
      observe();
    }
    const throttled = () =>
      peer.packets.filter((p) => p.type === "close" && p.reason === WispClose.throttled).length;
    const connected = () => stalled.connectionsSoFar();
    // Every stream either reached the target or was refused: none is lost, none is doubled.
    await until(
      () => {
        observe();
        return stalled.received.length + throttled() === streams;
      },
      "every stream served or refused",
      15_000,
    );
    expect(most).toBeLessThanOrEqual(4);
    expect(mostHeld).toBeLessThanOrEqual(bound);
    expect((await connected()) + throttled()).toBe(streams);
    // The targets read again: every stream flushes, and its place is free again.
    stalling = false;
    for (const socket of stalledSockets) socket.resume();
    await until(() => connection?.heldForTargets === 0, "every stream to flush", 20_000);
    await until(() => connection?.activeStreams === 0, "every stream to let go", 20_000);
    expect(connection?.readingClient).toBe(true);
    const before = await connected();
    peer.send(encodeConnect(streams + 1, 1, stalled.port, "127.0.0.1"));
    peer.send(encodeData(streams + 1, Uint8Array.of(1, 2, 3)));
    await until(
      () => stalled.received.some((chunks) => chunks.some((chunk) => chunk.byteLength === 3)),
      "the new stream's bytes",
      10_000,
    );
    expect(await connected()).toBe(before + 1);
    peer.close();
  }, 40_000);
});
