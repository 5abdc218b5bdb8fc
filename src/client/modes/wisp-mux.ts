// A Wisp 1 client: many TCP streams on one WebSocket, for `socks --mux`. The packet codec is the
// server's own (src/wisp/packet.ts); the rest is the client's side of docs/protocol.md §10.

import { WispClose } from "../../protocol/wisp-close.ts";
import {
  decodePacket,
  encodeClose,
  encodeConnect,
  encodeData,
  StreamType,
} from "../../wisp/packet.ts";
import type { WebSocketFactory } from "./client-socket.ts";

/**
 * A DATA payload sent is at most this: each costs one packet of credit, whatever its size. 8 KiB
 * keeps the server's window at its full 128 packets whatever the traffic: its window is 1 MiB over
 * the typical packet size, and a window that shrinks (a small first packet, such as a request
 * head, then 64 KiB ones) can leave more credit counted as outstanding than half the new window,
 * after which this server never grants again (docs/client.md, `--mux`).
 */
export const MAX_SEND_BYTES = 8 * 1024;
/** Past this many bytes queued on the WebSocket, streams wait before sending more DATA. */
const WEBSOCKET_HIGH_WATER = 4 * 1024 * 1024;
const DRAIN_POLL_MS = 5;
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 30_000;

export interface MuxOptions {
  readonly url: URL;
  /** Opens the WebSocket with the user's headers (and the credential as Authorization). */
  readonly webSocket: WebSocketFactory;
  /** How long a stream waits for the connection to be (re)established before it fails. */
  readonly connectTimeoutMs: number;
  /** A ping this often; no pong before the next one means the connection is dead. */
  readonly pingIntervalMs: number;
  report(level: "info" | "warn", line: string): void;
}

export interface MuxStreamEvents {
  /** The CONNECT went out: the stream may carry bytes now. */
  opened(): void;
  data(chunk: Uint8Array): void;
  /** Credit came back after `send` returned false. */
  writable(): void;
  /** The stream ended: `reason` is the server's CLOSE reason, undefined when it never got one. */
  closed(reason: number | undefined, why: string): void;
}

type State = "idle" | "connecting" | "ready" | "backoff";

/** One Wisp connection, reopened with backoff when it drops; streams wait for it, bounded in time. */
export class WispMux {
  private ws: WebSocket | undefined;
  private state: State = "idle";
  private readonly streams = new Map<number, MuxStream>();
  private readonly waiting = new Set<MuxStream>();
  private nextId = 1;
  private credit = 0;
  private backoffMs = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private drainTimer: ReturnType<typeof setTimeout> | undefined;
  private awaitingPong = false;
  private stopped = false;
  /** Why the last attempt failed, for streams that gave up waiting. */
  private lastProblem = "";
  private readyListeners: Array<(problem: string | undefined) => void> = [];

  constructor(private readonly options: MuxOptions) {}

  get connected(): boolean {
    return this.state === "ready";
  }

  /** Resolves with undefined once ready, or with the reason the first attempt failed. */
  whenReady(): Promise<string | undefined> {
    if (this.state === "ready") return Promise.resolve(undefined);
    this.ensureConnecting();
    return new Promise((resolve) => this.readyListeners.push(resolve));
  }

  open(host: string, port: number, events: MuxStreamEvents): MuxStream {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    const stream = new MuxStream(this, id, host, port, events);
    if (this.state === "ready") this.begin(stream);
    else {
      this.waiting.add(stream);
      stream.waitTimer = setTimeout(() => {
        this.waiting.delete(stream);
        const why = this.lastProblem ? `: ${this.lastProblem}` : "";
        stream.drop(`no connection to the proxy within ${this.options.connectTimeoutMs} ms${why}`);
      }, this.options.connectTimeoutMs);
      this.ensureConnecting();
    }
    return stream;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.lost("the client is shutting down", 1001);
  }

  /** @internal Sends one packet; false when the connection is gone. */
  send(packet: Uint8Array): boolean {
    if (this.state !== "ready" || !this.ws) return false;
    this.ws.send(packet);
    return true;
  }

  /** @internal Whether DATA should wait for the WebSocket's buffer to drain. */
  congested(): boolean {
    if ((this.ws?.bufferedAmount ?? 0) <= WEBSOCKET_HIGH_WATER) return false;
    this.drainTimer ??= setTimeout(() => this.drained(), DRAIN_POLL_MS);
    return true;
  }

  /** @internal */
  forget(stream: MuxStream): void {
    this.streams.delete(stream.id);
    this.waiting.delete(stream);
  }

  private drained(): void {
    this.drainTimer = undefined;
    for (const stream of this.streams.values()) stream.flush();
  }

  private begin(stream: MuxStream): void {
    clearTimeout(stream.waitTimer);
    this.streams.set(stream.id, stream);
    this.send(encodeConnect(stream.id, StreamType.tcp, stream.port, stream.host));
    stream.started(this.credit);
  }

  private ensureConnecting(): void {
    if (this.stopped || this.state === "connecting" || this.state === "ready") return;
    if (this.state === "backoff") return; // the retry timer connects
    this.connect();
  }

  private connect(): void {
    this.state = "connecting";
    let ws: WebSocket;
    try {
      ws = this.options.webSocket(String(this.options.url));
    } catch (error) {
      this.failedAttempt((error as Error).message);
      return;
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    let opened = false;
    ws.addEventListener("open", () => {
      opened = true;
    });
    ws.addEventListener("message", (event) => {
      if (this.ws !== ws) return;
      // Anything the server sends shows it alive, as a pong does: a busy connection is never
      // taken for a dead one because its pong queued behind data.
      this.awaitingPong = false;
      if (typeof event.data === "string") {
        this.lost("the server sent a text frame (is --server a Wisp endpoint?)", 1003);
        return;
      }
      this.packet(new Uint8Array(event.data as ArrayBuffer));
    });
    ws.addEventListener("pong", () => {
      this.awaitingPong = false;
    });
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      const why = event.reason ? `${event.code} ${event.reason}` : String(event.code);
      if (this.state === "ready") this.lost(`the connection to the proxy closed (${why})`);
      else
        this.failedAttempt(
          opened ? `closed before the Wisp handshake (${why})` : "could not connect",
        );
    });
    ws.addEventListener("error", () => {
      // `close` follows.
    });
  }

  private packet(bytes: Uint8Array): void {
    let packet: ReturnType<typeof decodePacket>;
    try {
      packet = decodePacket(bytes);
    } catch (error) {
      this.lost(`the server sent a malformed packet: ${(error as Error).message}`, 1002);
      return;
    }
    if (packet.streamId === 0) {
      if (packet.type === "continue" && this.state === "connecting")
        this.ready(packet.bufferRemaining);
      else if (packet.type === "close") this.lostOnStreamZero(packet.reason);
      return;
    }
    const stream = this.streams.get(packet.streamId);
    if (!stream) return; // a stream this side already closed: packets in flight
    if (packet.type === "data") stream.received(packet.payload);
    else if (packet.type === "continue") stream.granted(packet.bufferRemaining);
    else if (packet.type === "close") stream.remoteClosed(packet.reason);
  }

  private ready(credit: number): void {
    this.state = "ready";
    this.credit = credit;
    this.backoffMs = 0;
    this.lastProblem = "";
    this.options.report(
      "info",
      `connected to ${this.options.url.href} (Wisp, ${credit} packets of credit per stream)`,
    );
    this.startPings();
    for (const listener of this.readyListeners.splice(0)) listener(undefined);
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const stream of waiting) this.begin(stream);
  }

  private lostOnStreamZero(reason: number): void {
    const why =
      reason === WispClose.authBadPassword
        ? "the proxy refused the credential"
        : reason === WispClose.authMissingCredentials
          ? "the proxy requires a credential (--token)"
          : `the proxy closed the connection (Wisp CLOSE 0x${reason.toString(16)})`;
    if (this.state === "ready") this.lost(why);
    else this.failedAttempt(why);
  }

  private startPings(): void {
    clearInterval(this.pingTimer);
    this.awaitingPong = false;
    this.pingTimer = setInterval(() => {
      if (this.awaitingPong) {
        this.lost(`no answer to a ping within ${this.options.pingIntervalMs} ms`);
        return;
      }
      this.awaitingPong = true;
      (this.ws as WebSocket & { ping(): void }).ping();
    }, this.options.pingIntervalMs);
  }

  /** A live connection ended: every stream fails, and the connection is opened again. */
  private lost(why: string, code = 1000): void {
    clearInterval(this.pingTimer);
    const ws = this.ws;
    this.ws = undefined;
    const wasReady = this.state === "ready";
    this.state = "idle";
    if (ws) {
      // A dead peer never answers a close: terminate drops the TCP connection at once.
      const terminate = (ws as WebSocket & { terminate?: () => void }).terminate;
      if (code !== 1000 && code !== 1001 && terminate) terminate.call(ws);
      else ws.close(code);
    }
    const streams = [...this.streams.values()];
    this.streams.clear();
    for (const stream of streams) stream.drop(why);
    for (const listener of this.readyListeners.splice(0)) listener(why);
    if (this.stopped) {
      for (const stream of [...this.waiting]) stream.drop(why);
      this.waiting.clear();
      return;
    }
    if (wasReady) this.options.report("warn", `${why}; reconnecting`);
    this.lastProblem = why;
    this.retry();
  }

  private failedAttempt(why: string): void {
    this.ws = undefined;
    this.state = "idle";
    this.lastProblem = why;
    for (const listener of this.readyListeners.splice(0)) listener(why);
    if (!this.stopped) this.retry();
  }

  private retry(): void {
    this.backoffMs =
      this.backoffMs === 0 ? FIRST_BACKOFF_MS : Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.state = "backoff";
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.state = "idle";
      // Reconnect only for streams that wait; the next local connection starts it otherwise.
      if (this.waiting.size > 0) this.connect();
    }, this.backoffMs);
  }
}

/**
 * One stream. Sending respects the server's credit: a packet costs one, and a CONTINUE replaces
 * the count (as the server expects: it only grants what is free after packets in flight).
 */
export class MuxStream {
  waitTimer: ReturnType<typeof setTimeout> | undefined;
  bytesSent = 0;
  bytesReceived = 0;
  private credit = 0;
  private queue: Uint8Array[] = [];
  private live = false;
  private finished = false;
  private closing = false;
  /** `send` returned false: `writable` is owed once the queue empties. */
  private owedWritable = false;

  constructor(
    private readonly mux: WispMux,
    readonly id: number,
    readonly host: string,
    readonly port: number,
    private readonly events: MuxStreamEvents,
  ) {}

  /** Queues `chunk`; false when the caller should stop reading until `writable`. */
  send(chunk: Uint8Array): boolean {
    if (this.finished || this.closing) return true;
    for (let offset = 0; offset < chunk.byteLength; offset += MAX_SEND_BYTES)
      this.queue.push(chunk.subarray(offset, offset + MAX_SEND_BYTES));
    this.flush();
    if (this.queue.length === 0) return true;
    this.owedWritable = true;
    return false;
  }

  /** Ends the stream from this side once what was queued has gone out. */
  close(): void {
    if (this.finished) return;
    this.closing = true;
    if (!this.live) {
      this.finish();
      return;
    }
    this.flush();
  }

  /** @internal */
  started(credit: number): void {
    this.live = true;
    this.credit = credit;
    // Not within `open`: its caller has the stream only once `open` returns.
    queueMicrotask(() => {
      if (!this.finished) this.events.opened();
    });
  }

  /** @internal Sends what the credit allows. */
  flush(): void {
    if (!this.live || this.finished) return;
    while (this.queue.length > 0 && this.credit > 0 && !this.mux.congested()) {
      const piece = this.queue.shift() as Uint8Array;
      if (!this.mux.send(encodeData(this.id, piece))) return;
      this.credit--;
      this.bytesSent += piece.byteLength;
    }
    if (this.queue.length > 0) return;
    if (this.closing) {
      this.mux.send(encodeClose(this.id, WispClose.voluntary));
      this.finish();
      return;
    }
    if (this.owedWritable) {
      this.owedWritable = false;
      this.events.writable();
    }
  }

  /** @internal */
  received(payload: Uint8Array): void {
    if (this.finished) return;
    this.bytesReceived += payload.byteLength;
    this.events.data(payload);
  }

  /** @internal */
  granted(credit: number): void {
    this.credit = credit;
    this.flush();
  }

  /** @internal The server closed the stream. */
  remoteClosed(reason: number): void {
    if (this.finished) return;
    this.finish();
    this.events.closed(reason, "");
  }

  /** @internal The connection is gone (or never came). */
  drop(why: string): void {
    if (this.finished) return;
    this.finish();
    this.events.closed(undefined, why);
  }

  private finish(): void {
    this.finished = true;
    this.queue = [];
    clearTimeout(this.waitTimer);
    this.mux.forget(this);
  }
}
