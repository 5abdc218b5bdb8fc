import { CloseCode, type ConnectedStatus } from "../protocol/constants.ts";
import { abortError, closeError, OVERFLOW_CLOSE_CODE, Socket2WebError } from "./errors.ts";
import type { SupportedProtocols } from "./messages.ts";
import { CONNECTING, OPEN } from "./ready-state.ts";
import { createWritable, ReceiveQueue } from "./streams.ts";

/** How the handshake travelled: in the upgrade URL, or as the first message after the greeting. */
export type HandshakeForm = "url" | "message";

export interface CloseInfo {
  code: number;
  reason: string;
  wasClean: boolean;
}

export interface StreamOptions {
  /**
   * Bytes waiting for the reader at which the connection stops reading from the network,
   * where the WebSocket can pause (Bun's can; a browser's cannot). Default 1 MiB.
   */
  readableHighWaterMark?: number;
  /**
   * Bytes waiting for the reader past which the connection is closed and the readable
   * errors with `overflow`. Only reachable where the WebSocket cannot pause. Default 64 MiB.
   */
  maxReadableBytes?: number;
  /** `bufferedAmount` above which `write()` waits. Default 1 MiB. */
  writableHighWaterMark?: number;
}

export const DEFAULT_READABLE_HIGH_WATER_MARK = 1024 * 1024;
export const DEFAULT_MAX_READABLE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_WRITABLE_HIGH_WATER_MARK = 1024 * 1024;

/** Bun's client WebSocket can stop reading; the DOM type does not say so. */
interface PausableSocket {
  pause(): boolean;
  resume(): boolean;
}

function pausable(ws: WebSocket): PausableSocket | undefined {
  const candidate = ws as unknown as Partial<PausableSocket>;
  return typeof candidate.pause === "function" && typeof candidate.resume === "function"
    ? (candidate as PausableSocket)
    : undefined;
}

export function toBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

/** A proxied connection whose status was `connected`: a byte stream each way. */
export class Connection {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  /** The server's `connected` status. */
  readonly status: ConnectedStatus;
  /** Settles when the WebSocket has closed, with its close code and reason; never rejects. */
  readonly closed: Promise<CloseInfo>;
  /** How the handshake went: in the URL, or as a message after the server's greeting. */
  readonly handshake: HandshakeForm;

  private readonly ws: WebSocket;
  private readonly protocols: SupportedProtocols;
  private readonly queue: ReceiveQueue;
  private readonly pauser: PausableSocket | undefined;
  private readonly maxReadableBytes: number;
  private paused = false;
  private sent = 0;
  private received = 0;
  private receivedAt: number | undefined;
  /** Why the reader sees an error instead of a normal end, when the client itself ended the connection. */
  private localEnd: { error: unknown } | undefined;
  private closeInfo: CloseInfo | undefined;

  constructor(
    ws: WebSocket,
    protocols: SupportedProtocols,
    status: ConnectedStatus,
    options: StreamOptions = {},
    signal?: AbortSignal,
    handshake: HandshakeForm = "message",
  ) {
    this.ws = ws;
    this.handshake = handshake;
    this.protocols = protocols;
    this.status = status;
    this.pauser = pausable(ws);
    this.maxReadableBytes = options.maxReadableBytes ?? DEFAULT_MAX_READABLE_BYTES;
    this.queue = new ReceiveQueue(
      {
        pause: () => this.setPaused(true),
        resume: () => this.setPaused(false),
        cancel: () => this.end(undefined, CloseCode.normal, "reader cancelled"),
      },
      options.readableHighWaterMark ?? DEFAULT_READABLE_HIGH_WATER_MARK,
    );
    this.readable = this.queue.readable;
    this.writable = createWritable(
      {
        send: (frame) => {
          // A view on a SharedArrayBuffer is refused by send() at run time, as the DOM type says.
          ws.send(frame as Uint8Array<ArrayBuffer>);
          this.sent += frame.byteLength;
        },
        bufferedAmount: () => ws.bufferedAmount,
        closedError: () => this.sendError(),
        abort: (reason) => this.end(reason, CloseCode.normal, "writer aborted"),
      },
      options.writableHighWaterMark ?? DEFAULT_WRITABLE_HIGH_WATER_MARK,
    );

    this.closed = new Promise<CloseInfo>((resolve) => {
      ws.addEventListener("close", (event) => {
        this.closeInfo = { code: event.code, reason: event.reason, wasClean: event.wasClean };
        signal?.removeEventListener("abort", onAbort);
        if (this.localEnd) this.queue.end(this.localEnd.error);
        else if (event.code === CloseCode.normal) this.queue.end();
        else this.queue.end(closeError(event.code, event.reason));
        resolve(this.closeInfo);
      });
    });
    ws.addEventListener("message", (event) => this.onMessage(event.data));
    const onAbort = () => {
      if (signal) this.end(abortError(signal), CloseCode.normal, "aborted");
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
  }

  /** The greeting's map: each protocol the server offers, with its handshake fields (empty after a URL-form handshake, which has no greeting). */
  supportedProtocols(): SupportedProtocols {
    return structuredClone(this.protocols);
  }

  /** Payload bytes handed to the WebSocket so far. */
  get bytesSent(): number {
    return this.sent;
  }

  /** Payload bytes received from the server so far. */
  get bytesReceived(): number {
    return this.received;
  }

  /** `performance.now()` when payload bytes last arrived; undefined before the first. */
  get lastReceivedAt(): number | undefined {
    return this.receivedAt;
  }

  /** Bytes received and not yet read from `readable`. */
  get queuedBytes(): number {
    return this.queue.queuedBytes;
  }

  /**
   * Closes the WebSocket (1000 unless told otherwise). What was written goes out first;
   * the server writes it to the target, then ends the target connection. Safe to call twice.
   */
  close(code: number = CloseCode.normal, reason = ""): void {
    this.end(undefined, code, reason);
  }

  private end(error: unknown, code: number, reason: string): void {
    if (this.localEnd || this.closeInfo) return;
    if (this.ws.readyState === CONNECTING || this.ws.readyState === OPEN) {
      // Throws on a code or reason RFC 6455 forbids, before any state changes.
      this.ws.close(code, reason);
    }
    this.localEnd = { error };
    this.setPaused(false);
  }

  private sendError(): Socket2WebError | undefined {
    if (this.ws.readyState === OPEN && !this.localEnd) return undefined;
    const info = this.closeInfo;
    if (info && info.code !== CloseCode.normal) return closeError(info.code, info.reason);
    return new Socket2WebError("closed", "the connection is closed", info?.code);
  }

  private setPaused(paused: boolean): void {
    if (!this.pauser || this.paused === paused) return;
    this.paused = paused;
    if (paused) this.pauser.pause();
    else this.pauser.resume();
  }

  private onMessage(data: unknown): void {
    // The server sends data as binary frames; a text frame still carries bytes, so keep them.
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : toBytes(data);
    if (!bytes) return;
    this.received += bytes.byteLength;
    this.receivedAt = performance.now();
    this.queue.push(bytes);
    if (this.queue.queuedBytes > this.maxReadableBytes) {
      const error = new Socket2WebError(
        "overflow",
        `more than ${this.maxReadableBytes} bytes received and not read`,
        OVERFLOW_CLOSE_CODE,
      );
      this.queue.fail(error);
      this.end(error, OVERFLOW_CLOSE_CODE, "receive queue overflow");
    }
  }
}
