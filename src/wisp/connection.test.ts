// WispConnection in process, with a fake WebSocket and fake sessions: the protocol's own logic.
import { describe, expect, it } from "bun:test";
import { tcp } from "../adapters/tcp.ts";
import { createLogger } from "../log/logger.ts";
import { CloseCode } from "../protocol/constants.ts";
import { WispClose } from "../protocol/wisp-close.ts";
import { type WispAccess, WispConnection } from "./connection.ts";
import { encodePasswordPayload } from "./extensions.ts";
import { decodePacket, encodeConnect, encodeData, encodeInfo, type Packet } from "./packet.ts";
import type { StreamSession, WispStream } from "./stream.ts";

class FakeSocket {
  readonly sent: Packet[] = [];
  paused = false;
  /** Bytes queued towards the client: a send is queued (-1) while there are any. */
  buffered = 0;
  closed: { code?: number; reason?: string } | undefined;
  sendBinary(data: Uint8Array): number {
    // A copy, as Bun's WebSocket keeps one: DATA packets share a reused buffer.
    this.sent.push(decodePacket(data.slice()));
    return this.buffered > 0 ? -1 : data.byteLength;
  }
  getBufferedAmount(): number {
    return this.buffered;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  close(code?: number, reason?: string): void {
    this.closed = { code, reason };
  }
}

class FakeSession implements StreamSession {
  readonly messages: Uint8Array[] = [];
  pendingToTarget = 0;
  bytesFromClient = 0;
  bytesFromTarget = 0;
  ended: number | undefined;
  endedBy: string | undefined;
  started = false;
  /** Holds its target after the client side ends until `release` (a flushing session). */
  holdTarget = false;
  constructor(
    readonly client: WispStream,
    private readonly released: () => void,
  ) {}
  release(): void {
    this.released();
  }
  start(): void {
    this.started = true;
  }
  message(data: Uint8Array): void {
    this.messages.push(data);
    this.bytesFromClient += data.byteLength;
  }
  clientDrained(): void {}
  clientClosed(code: number, _reason?: string, by = "client"): void {
    this.ended = code;
    this.endedBy = by;
    if (!this.holdTarget) this.released();
  }
}

function setUp(
  version: 1 | 2,
  access: WispAccess,
  packets = 8,
  bytes = Number.POSITIVE_INFINITY,
  most = packets,
) {
  const socket = new FakeSocket();
  const sessions: FakeSession[] = [];
  const connection = new WispConnection(socket, {
    version,
    credit: { initial: packets, most, bytes },
    outbound: { high: 1000, low: 100 },
    maxStreams: 4,
    adapters: { tcp },
    access,
    // As the session's hooks are told: the stream's own (which tell the connection).
    session: ({ client, hooks }) => {
      const session = new FakeSession(client as WispStream, () => hooks.released?.());
      sessions.push(session);
      return session;
    },
    logger: createLogger("error"),
    label: "wisp test",
    infoTimeoutMs: 10_000,
  });
  connection.start();
  return { socket, sessions, connection };
}

const open: WispAccess = { kind: "open", grant: { ok: true, kind: "anonymous" } };

describe("WispConnection", () => {
  it("Wisp 2: INFO then CONTINUE; Wisp 1: CONTINUE only", () => {
    expect(setUp(2, open).socket.sent.map((p) => p.type)).toEqual(["info", "continue"]);
    expect(setUp(1, open).socket.sent).toEqual([
      { type: "continue", streamId: 0, bufferRemaining: 8 },
    ]);
  });

  it("a CONNECT starts a session; DATA reaches it; CONTINUE once half the credit may be spent", () => {
    const { socket, sessions, connection } = setUp(1, open);
    connection.message(encodeConnect(1, 1, 80, "127.0.0.1"));
    expect(sessions[0]?.started).toBe(true);
    for (let i = 0; i < 3; i++) connection.message(encodeData(1, Uint8Array.of(i)));
    expect(sessions[0]?.messages).toHaveLength(3);
    expect(socket.sent.filter((p) => p.type === "continue")).toHaveLength(1);
    connection.message(encodeData(1, Uint8Array.of(3)));
    expect(socket.sent.at(-1)).toEqual({ type: "continue", streamId: 1, bufferRemaining: 4 });
  });

  it("no CONTINUE while the target holds the packets; one as it drains", () => {
    const { socket, sessions, connection } = setUp(1, open);
    connection.message(encodeConnect(1, 1, 80, "127.0.0.1"));
    const session = sessions[0] as FakeSession;
    session.pendingToTarget = 8;
    for (let i = 0; i < 8; i++) connection.message(encodeData(1, Uint8Array.of(i)));
    expect(socket.sent.filter((p) => p.type === "continue" && p.streamId === 1)).toEqual([]);
    // The target took everything: the session's relay reports its drain through the adapter.
    session.pendingToTarget = 0;
    session.client.resume();
    expect(socket.sent.at(-1)).toEqual({ type: "continue", streamId: 1, bufferRemaining: 8 });
  });

  it("a client whose credit a CONTINUE replaced, then a shrinking window, is not left waiting", async () => {
    // A small first packet, then 64 KiB ones: the window shrinks from 128 to 16 packets.
    const { socket, connection } = setUp(1, open, 32, 1024 * 1024, 128);
    connection.message(encodeConnect(1, 1, 80, "127.0.0.1"));
    connection.message(encodeData(1, new Uint8Array(16)));
    const continues = () =>
      socket.sent.filter((p) => p.type === "continue" && p.streamId === 1) as {
        bufferRemaining: number;
      }[];
    // As wisp-js does: the credit is whatever the last CONTINUE said (stream 0's 32 before the
    // stream's first, one of them spent); spend it all.
    let credit = continues().at(-1)?.bufferRemaining ?? 31;
    expect(credit).toBeGreaterThan(0);
    let sent = 0;
    while (credit > 0 && sent < 1000) {
      const before = continues().length;
      connection.message(encodeData(1, new Uint8Array(64 * 1024)));
      credit--;
      sent++;
      if (continues().length > before)
        credit = (continues().at(-1) as { bufferRemaining: number }).bufferRemaining;
    }
    const granted = continues().length;
    // Out of credit, everything taken by the target: a CONTINUE must come (bounded wait).
    for (let i = 0; i < 100 && continues().length === granted; i++) await Bun.sleep(5);
    expect(continues().length).toBeGreaterThan(granted);
    expect(continues().at(-1)?.bufferRemaining).toBeGreaterThan(0);
  });

  it("a short stream of small packets gets no CONTINUE; the first comes once half the initial credit is spent", () => {
    // The window in bytes allows 128 small packets at once, four times stream 0's 32.
    const { socket, connection } = setUp(1, open, 32, 1024 * 1024, 128);
    connection.message(encodeConnect(1, 1, 80, "127.0.0.1"));
    const continues = () => socket.sent.filter((p) => p.type === "continue" && p.streamId === 1);
    for (let i = 0; i < 15; i++) connection.message(encodeData(1, Uint8Array.of(i)));
    expect(continues()).toEqual([]);
    connection.message(encodeData(1, Uint8Array.of(15)));
    expect(continues()).toEqual([{ type: "continue", streamId: 1, bufferRemaining: 112 }]);
  });

  it("a stream that never had a CONTINUE keeps its initial credit: no grant when it goes quiet", async () => {
    const { socket, connection } = setUp(1, open);
    connection.message(encodeConnect(1, 1, 80, "127.0.0.1"));
    // One packet of the 8 the initial CONTINUE allows; the target takes it at once.
    connection.message(encodeData(1, Uint8Array.of(1)));
    // An absence, so a wait: three times the stall timer's 50 ms, which must not have been set.
    await Bun.sleep(150);
    expect(socket.sent.filter((p) => p.type === "continue" && p.streamId === 1)).toEqual([]);
  });

  it("the stream limit answers 0x49; a CLOSE frees the slot and ends only that session", () => {
    const { socket, sessions, connection } = setUp(1, open);
    for (let id = 1; id <= 5; id++) connection.message(encodeConnect(id, 1, 80, "127.0.0.1"));
    expect(sessions).toHaveLength(4);
    expect(socket.sent.at(-1)).toEqual({ type: "close", streamId: 5, reason: WispClose.throttled });
    connection.message(Uint8Array.of(4, 2, 0, 0, 0, WispClose.voluntary));
    expect(sessions[1]?.ended).toBe(CloseCode.normal);
    expect(sessions[0]?.ended).toBeUndefined();
    connection.message(encodeConnect(6, 1, 80, "127.0.0.1"));
    expect(sessions).toHaveLength(5);
  });

  it("a closed stream whose session still flushes to its target keeps counting against the limit", () => {
    const { socket, sessions, connection } = setUp(1, open);
    connection.message(encodeConnect(1, 1, 80, "127.0.0.1"));
    const flushing = sessions[0] as FakeSession;
    flushing.holdTarget = true;
    for (let id = 2; id <= 4; id++) connection.message(encodeConnect(id, 1, 80, "127.0.0.1"));
    connection.message(Uint8Array.of(4, 1, 0, 0, 0, WispClose.voluntary));
    expect(flushing.ended).toBe(CloseCode.normal);
    expect(connection.activeStreams).toBe(4);
    connection.message(encodeConnect(5, 1, 80, "127.0.0.1"));
    expect(socket.sent.at(-1)).toEqual({ type: "close", streamId: 5, reason: WispClose.throttled });
    flushing.release();
    expect(connection.activeStreams).toBe(3);
    connection.message(encodeConnect(6, 1, 80, "127.0.0.1"));
    expect(sessions).toHaveLength(5);
  });

  it("tells once, after the WebSocket closed and the last flushing stream let go", () => {
    let released = 0;
    const socket = new FakeSocket();
    const sessions: FakeSession[] = [];
    const connection = new WispConnection(socket, {
      version: 1,
      credit: { initial: 8, most: 8, bytes: Number.POSITIVE_INFINITY },
      maxStreams: 4,
      adapters: { tcp },
      access: open,
      session: ({ client, hooks }) => {
        const session = new FakeSession(client as WispStream, () => hooks.released?.());
        session.holdTarget = true;
        sessions.push(session);
        return session;
      },
      logger: createLogger("error"),
      label: "wisp test",
      released: () => released++,
    });
    connection.start();
    connection.message(encodeConnect(1, 1, 80, "127.0.0.1"));
    connection.closed(1000);
    expect(released).toBe(0);
    sessions[0]?.release();
    expect(released).toBe(1);
    connection.closed(1000);
    expect(released).toBe(1);
  });

  it("the session's close becomes CLOSE with the matching reason", () => {
    const { socket, sessions, connection } = setUp(1, open);
    connection.message(encodeConnect(1, 1, 80, "127.0.0.1"));
    sessions[0]?.client.close(CloseCode.idleTimeout);
    expect(socket.sent.at(-1)).toEqual({
      type: "close",
      streamId: 1,
      reason: WispClose.transferTimeout,
    });
    expect(sessions[0]?.ended).toBe(CloseCode.idleTimeout);
    expect(connection.activeStreams).toBe(0);
  });

  it("password: messages pipelined behind the INFO wait for the check, then run in order", async () => {
    let release: (grant: { ok: true; kind: "token" } | undefined) => void = () => {};
    const { socket, sessions, connection } = setUp(2, {
      kind: "password",
      authenticate: () => new Promise((resolve) => (release = resolve)),
    });
    expect(socket.sent.map((p) => p.type)).toEqual(["info"]);
    const payload = encodePasswordPayload({ username: "u", password: "p" });
    connection.message(encodeInfo(2, 0, [{ id: 2, payload }]));
    connection.message(encodeConnect(1, 1, 80, "127.0.0.1"));
    connection.message(encodeData(1, Uint8Array.of(9)));
    expect(socket.paused).toBe(true);
    expect(sessions).toHaveLength(0);
    release({ ok: true, kind: "token" });
    await Promise.resolve();
    expect(socket.sent.map((p) => p.type)).toEqual(["info", "continue"]);
    expect(socket.paused).toBe(false);
    expect(sessions[0]?.messages.map((m) => [...m])).toEqual([[9]]);
  });

  it("DATA beyond the credit ends that stream with 0x41; the packet is dropped, others carry on", () => {
    const { socket, sessions, connection } = setUp(1, open, 2);
    connection.message(encodeConnect(1, 1, 80, "127.0.0.1"));
    connection.message(encodeConnect(2, 1, 80, "127.0.0.1"));
    const [first, second] = sessions as [FakeSession, FakeSession];
    first.pendingToTarget = 2; // the target takes nothing: no CONTINUE
    for (let i = 0; i < 3; i++) connection.message(encodeData(1, Uint8Array.of(i)));
    expect(first.messages).toHaveLength(2);
    expect(socket.sent.at(-1)).toEqual({ type: "close", streamId: 1, reason: WispClose.invalid });
    expect(first.ended).toBe(CloseCode.normal);
    connection.message(encodeData(2, Uint8Array.of(7)));
    expect(second.messages).toHaveLength(1);
    expect(socket.closed).toBeUndefined();
  });

  it("a stream holding more than its bytes stops the WebSocket being read until it is back within", () => {
    const { socket, connection } = setUp(1, open, 8, 100);
    connection.message(encodeConnect(1, 1, 80, "127.0.0.1"));
    connection.message(encodeData(1, new Uint8Array(60)));
    expect(socket.paused).toBe(false);
    connection.message(encodeData(1, new Uint8Array(60)));
    expect(socket.paused).toBe(true);
    expect(connection.heldForTargets).toBe(120);
    // The stream ends before its target opened: nothing it held is counted any more.
    connection.message(Uint8Array.of(4, 1, 0, 0, 0, WispClose.voluntary));
    expect(socket.paused).toBe(false);
    expect(connection.heldForTargets).toBe(0);
  });

  it("replies queued past the outbound bound stop the client being read until they drain", () => {
    const { socket, connection } = setUp(1, open);
    socket.buffered = 1001;
    connection.message(encodeData(9, Uint8Array.of(1)));
    expect(socket.sent.at(-1)).toMatchObject({ type: "close", streamId: 9 });
    expect(socket.paused).toBe(true);
    expect(connection.readingClient).toBe(false);
    socket.buffered = 500;
    connection.drain();
    expect(socket.paused).toBe(true);
    socket.buffered = 99;
    connection.drain();
    expect(socket.paused).toBe(false);
  });

  it.each([
    ["more than 32 extension records", new Uint8Array(33 * 5).fill(0)],
    ["an extension record cut short", Uint8Array.of(2, 9, 0, 0, 0)],
  ])("before authentication, an INFO with %s closes the connection with 1002", (_, records) => {
    let checked = false;
    const { socket, connection } = setUp(2, {
      kind: "password",
      authenticate: async () => {
        checked = true;
        return undefined;
      },
    });
    const info = new Uint8Array(7 + records.byteLength);
    info.set([5, 0, 0, 0, 0, 2, 0]);
    info.set(records, 7);
    connection.message(info);
    expect(socket.sent.at(-1)).toEqual({ type: "close", streamId: 0, reason: WispClose.invalid });
    expect(socket.closed?.code).toBe(1002);
    expect(checked).toBe(false);
  });

  it("the WebSocket's close ends every stream as the client's end", () => {
    const { sessions, connection } = setUp(1, open);
    connection.message(encodeConnect(1, 1, 80, "127.0.0.1"));
    connection.message(encodeConnect(2, 1, 80, "127.0.0.1"));
    connection.closed(1006);
    expect(sessions.map((s) => s.ended)).toEqual([1006, 1006]);
    expect(sessions.map((s) => s.endedBy)).toEqual(["client", "client"]);
  });

  it("a WebSocket the server closed (lifetime, idle, shutdown) ends its streams as the server's close", () => {
    const { socket, sessions, connection } = setUp(1, open);
    connection.message(encodeConnect(1, 1, 80, "127.0.0.1"));
    connection.close(CloseCode.maxLifetime, "max lifetime");
    expect(socket.closed?.code).toBe(CloseCode.maxLifetime);
    connection.closed(CloseCode.maxLifetime);
    expect(sessions.map((s) => [s.ended, s.endedBy])).toEqual([[CloseCode.maxLifetime, "server"]]);
  });

  it("a stream reset for a bad packet is the server's close", () => {
    const { sessions, connection } = setUp(1, open);
    connection.message(encodeConnect(1, 1, 80, "127.0.0.1"));
    connection.message(encodeConnect(1, 1, 80, "127.0.0.1"));
    expect(sessions[0]?.endedBy).toBe("server");
  });
});
