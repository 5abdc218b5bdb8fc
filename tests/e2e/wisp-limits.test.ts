// What one Wisp connection can make the real server hold (RSS from /proc), and how it answers a
// client that sends beyond its credit, beyond the largest packet, or huge INFO packets.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Socket } from "bun";
import { WispClose } from "../../src/protocol/wisp-close.ts";
import { encodeConnect, encodeData, type Packet } from "../../src/wisp/packet.ts";
import { cpuMillis, type RunningProxy, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { tempDir } from "../helpers/tls-cert.ts";
import { dataBytes, isClose, openRawWisp, type RawWisp } from "../wisp/raw-wisp.ts";

const MiB = 1024 * 1024;
/** The documented bounds: a stream holds its 1 MiB window plus the packet that crossed it. */
const STREAM_BOUND = 2 * MiB;
/** What the process may grow by besides: read buffers, allocator slack, the collector's lag. */
const CONSTANT = 96 * MiB;

let stalled: TcpTarget;
const stalledSockets: Socket<unknown>[] = [];
let proxy: RunningProxy;
beforeAll(async () => {
  // A target that accepts and never reads.
  stalled = startTcpTarget((socket) => {
    socket.pause();
    stalledSockets.push(socket as unknown as Socket<unknown>);
  });
  proxy = await startProxy(["--wisp", "/wisp/"]);
});
afterAll(async () => {
  await proxy.stop();
  stalled.stop();
});

/** Waits while `ws` has more than `limit` bytes queued, until `deadline`; false when it passed. */
async function roomBelow(peer: RawWisp, limit: number, deadline: number): Promise<boolean> {
  while (peer.bufferedAmount() > limit) {
    if (performance.now() > deadline) return false;
    await Bun.sleep(5);
  }
  return true;
}

/** A DATA packet of `size` bytes for each stream id, built once and sent many times. */
const dataPackets = (ids: number[], size: number) =>
  new Map(ids.map((id) => [id, encodeData(id, new Uint8Array(size).fill(id))]));

describe("one Wisp connection cannot grow the server's memory beyond its bounds", () => {
  test("16 streams × 40 × 1 MiB sent without waiting for credit", async () => {
    const peer = await openRawWisp(`${proxy.url}/wisp/`);
    await peer.next((p) => p.type === "continue");
    const ids = Array.from({ length: 16 }, (_, i) => i + 1);
    for (const id of ids) peer.send(encodeConnect(id, 1, stalled.port, "127.0.0.1"));
    const baseline = proxy.rss();
    const packets = dataPackets(ids, MiB);
    let peak = baseline;
    let sent = 0;
    const deadline = performance.now() + 8000;
    // Round robin over the streams, never looking at CONTINUE; the client's own queue is kept
    // at 16 MiB so that the test process does not hold what the server refuses to read.
    send: for (let round = 0; round < 40; round++) {
      for (const id of ids) {
        if (!(await roomBelow(peer, 16 * MiB, deadline))) break send;
        peer.send(packets.get(id) as Uint8Array);
        sent++;
        if (sent % 16 === 0) peak = Math.max(peak, proxy.rss());
      }
    }
    for (let i = 0; i < 10; i++) {
      await Bun.sleep(50);
      peak = Math.max(peak, proxy.rss());
    }
    // Before the bound, the server took all 640 MiB in.
    expect(peak - baseline).toBeLessThan(ids.length * STREAM_BOUND + CONSTANT);
    peer.close();
  }, 30_000);

  /**
   * A client that keeps to its credit (each CONTINUE replaces it, as wisp-js and libcurl.js take
   * it), sending `size`-byte packets round robin on `ids` for up to 6 s; the peak RSS growth.
   */
  async function withinCredit(peer: RawWisp, ids: number[], size: number, most: number) {
    const initial = await peer.next((p) => p.type === "continue");
    for (const id of ids) peer.send(encodeConnect(id, 1, stalled.port, "127.0.0.1"));
    const baseline = proxy.rss();
    const packets = dataPackets(ids, size);
    const start = (initial as Extract<Packet, { type: "continue" }>).bufferRemaining;
    const credit = new Map(ids.map((id) => [id, start]));
    let seen = 0;
    let peak = baseline;
    const deadline = performance.now() + 6000;
    for (let sent = 0; performance.now() < deadline && sent < most; ) {
      if (peer.isClosed()) break;
      for (; seen < peer.packets.length; seen++) {
        const packet = peer.packets[seen] as Packet;
        if (packet.type === "continue" && credit.has(packet.streamId))
          credit.set(packet.streamId, packet.bufferRemaining);
      }
      const id = ids.find((candidate) => (credit.get(candidate) ?? 0) > 0);
      if (id === undefined || !(await roomBelow(peer, 16 * MiB, deadline))) {
        await Bun.sleep(10);
        continue;
      }
      credit.set(id, (credit.get(id) ?? 0) - 1);
      peer.send(packets.get(id) as Uint8Array);
      sent++;
      peak = Math.max(peak, proxy.rss());
    }
    return peak - baseline;
  }

  test("a client within its credit, 1 MiB packets on 2 streams: held within the bound, never refused", async () => {
    const peer = await openRawWisp(`${proxy.url}/wisp/`);
    const growth = await withinCredit(peer, [1, 2], MiB, 2 * 97);
    expect(growth).toBeLessThan(2 * STREAM_BOUND + CONSTANT);
    expect(peer.packets.filter((p) => p.type === "close")).toEqual([]);
    peer.close();
  }, 30_000);

  test("a client within its credit, 4 MiB packets on 2 streams: the first closes the connection (1009)", async () => {
    const peer = await openRawWisp(`${proxy.url}/wisp/`);
    const growth = await withinCredit(peer, [1, 2], 4 * MiB, 2 * 97);
    // Before packets had a largest size, the server held 64 of them: 256 MiB.
    expect(growth).toBeLessThan(2 * STREAM_BOUND + CONSTANT);
    expect(await peer.next(isClose(0))).toMatchObject({ reason: WispClose.invalid });
    expect((await peer.closed).code).toBe(1009);
  }, 30_000);
});

describe("huge INFO packets from clients that have not authenticated", () => {
  const TOKEN = "wisp-limits-token-1234";
  let guarded: RunningProxy;
  let echo: TcpTarget;
  beforeAll(async () => {
    echo = startTcpTarget("echo");
    const tokens = join(tempDir(), "tokens");
    await Bun.write(tokens, `${TOKEN}\n`);
    guarded = await startProxy(["--wisp", "/wisp/", "--auth-token-file", tokens]);
  });
  afterAll(async () => {
    await guarded.stop();
    echo.stop();
  });

  /** An INFO of `count` empty extension records: 3.3 million fill a 16 MiB message. */
  function infoOfEmptyRecords(count: number): Uint8Array {
    const packet = new Uint8Array(5 + 2 + count * 5);
    packet.set([5, 0, 0, 0, 0, 2, 0]);
    for (let i = 0; i < count; i++) packet[7 + i * 5] = 1;
    return packet;
  }

  test("are refused at once; other sessions' echoes are not held up", async () => {
    // An authenticated session (its token in the path) echoing while the INFO packets arrive.
    const session = await openRawWisp(`${guarded.url}/wisp/${TOKEN}/`);
    await session.next((p) => p.type === "continue");
    session.send(encodeConnect(1, 1, echo.port, "127.0.0.1"));
    let echoed = 0;
    const ping = async () => {
      const started = performance.now();
      session.send(encodeData(1, Uint8Array.of(echoed % 256)));
      const want = ++echoed;
      await session.next(() => dataBytes(session.packets, 1) >= want);
      return performance.now() - started;
    };
    await ping();

    // Two as large as a WebSocket message may be (16 MiB), two just within the largest packet.
    const infos = [3_300_000, 3_300_000, 209_000, 209_000].map(infoOfEmptyRecords);
    const attackers = await Promise.all(
      Array.from({ length: 4 }, () => openRawWisp(`${guarded.url}/wisp/`, ["wisp-v2"])),
    );
    await Promise.all(attackers.map((peer) => peer.next((p) => p.type === "info")));
    let done = false;
    const closed = Promise.all(attackers.map((peer) => peer.closed)).finally(() => {
      done = true;
    });
    const cpuBefore = cpuMillis(guarded.proc.pid);
    for (const [i, peer] of attackers.entries()) peer.send(infos[i] as Uint8Array);
    let slowest = 0;
    for (let i = 0; i < 2000 && !done; i++) slowest = Math.max(slowest, await ping());
    for (let i = 0; i < 5; i++) slowest = Math.max(slowest, await ping());
    // Each was read no further than its size: closed with 1009 (beyond the largest packet) or
    // 1002 (beyond the largest INFO). Decoding the 3.3 million records of a 16 MiB one held every
    // session up for about 0.7 s.
    const outcomes = (await closed).map(({ code, reason }) => [code, reason.split(" ")[1]]);
    expect(outcomes).toEqual([
      [1009, "packet"],
      [1009, "packet"],
      [1002, "INFO"],
      [1002, "INFO"],
    ]);
    // What the server spent on them: receiving 34 MiB, not decoding 6.6 million records (about
    // 1.4 s of CPU before). CPU time does not grow with the machine's load, as latency does.
    expect(cpuMillis(guarded.proc.pid) - cpuBefore).toBeLessThan(700);
    // No echo waited for them: generous for a loaded 2-core machine, below the stall.
    expect(slowest).toBeLessThan(1400);
    session.close();
  }, 30_000);
});
