// What a Wisp connection holds for a client that misbehaves: replies to a client that never reads.
import { afterAll, describe, expect, test } from "bun:test";
import { encodeData } from "../../src/wisp/packet.ts";
import { openRawClient } from "../helpers/raw-ws.ts";
import { PREFIX, startWispHost } from "./host.ts";
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
