// What a Wisp connection holds for a client that misbehaves: replies to a client that never reads,
// streams that end while their targets hold what they were sent.
import { afterAll, describe, expect, test } from "bun:test";
import { WispClose } from "../../src/wisp/close-reason.ts";
import { encodeClose, encodeConnect, encodeData } from "../../src/wisp/packet.ts";
import { WISP_CREDIT } from "../../src/wisp/serve.ts";
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
    // Each DATA names a stream never opened: each earns a CLOSE (8 bytes on the wire). 800 000 of
    // them are 6 MiB of replies, more than the kernel's buffers of a paused reader take.
    const packets = 800_000;
    const payload = Uint8Array.of(1);
    let sent = 0;
    const deadline = performance.now() + 15_000;
    while (sent < packets && performance.now() < deadline) {
      for (let i = 0; i < 10_000; i++) client.sendBinary(encodeData(++sent, payload));
      await Bun.sleep(0);
      // The server no longer reads: what is queued stays queued.
      if (client.unsent() > 1024 * 1024) break;
    }
    // Whatever the server had read by now has been answered.
    await until(() => connection?.readingClient === false, "the server to stop reading");
    const buffered = connection?.bufferedToClient ?? 0;
    // The hold, plus the replies to what one read of the socket had already brought in.
    expect(buffered).toBeLessThanOrEqual(outbound.high + 512 * 1024);
    // Reading again: every packet is answered, nothing was lost, and the server reads again.
    client.resume();
    // Each CLOSE is 6 bytes; the CONTINUE on stream 0 that opened the connection, 9.
    await client.waitFor(() => client.binary.bytes >= 9 + sent * 6, 20_000);
    expect(client.binary.bytes).toBe(9 + sent * 6);
    expect(connection?.readingClient).toBe(true);
    client.end();
  }, 30_000);
});

describe("streams that end while their target does not read", () => {
  const stalledSockets: { resume(): void }[] = [];
  const stalled = startTcpTarget((socket) => {
    socket.pause();
    stalledSockets.push(socket);
  });
  const host = startWispHost({ maxStreams: 4 });
  afterAll(() => {
    host.stop();
    stalled.stop();
  });

  test("count towards the connection's bound until flushed: past it, the client is not read", async () => {
    const peer = await openRawWisp(host.url);
    await peer.next((p) => p.type === "continue");
    const [connection] = host.connections;
    const bound = 4 * WISP_CREDIT.bytes;
    // Open a stream, send it 900 KiB (within its 1 MiB and its credit), close it: again and
    // again. Each closed stream still holds what its target has not taken (30 s at most).
    const packet = new Uint8Array(300 * 1024);
    const streams = 64;
    for (let id = 1; id <= streams; id++) {
      peer.send(encodeConnect(id, 1, stalled.port, "127.0.0.1"));
      for (let i = 0; i < 3; i++) peer.send(encodeData(id, packet));
      peer.send(encodeClose(id, WispClose.voluntary));
    }
    await until(() => connection?.readingClient === false, "the server to stop reading", 10_000);
    const held = connection?.heldForTargets ?? 0;
    // The bound, plus what one read of the socket had already brought in.
    expect(held).toBeGreaterThan(bound);
    expect(held).toBeLessThan(bound + 2 * 1024 * 1024);
    expect(host.finished.length).toBeLessThan(streams);
    // The targets read again: every stream flushes, and the client is read to its last packet.
    for (const socket of stalledSockets) socket.resume();
    await until(() => host.finished.length === streams, "every stream to end", 20_000);
    await until(() => connection?.heldForTargets === 0, "every stream to flush", 20_000);
    expect(connection?.readingClient).toBe(true);
    peer.close();
  }, 30_000);
});
