import type { Socket2WebError } from "./errors.ts";

/** What the receive queue asks of the connection when its reader falls behind. */
export interface ReceiveFlow {
  /** Stop reading from the network, where the WebSocket allows it. */
  pause(): void;
  resume(): void;
  /** The reader gave up: end the connection. */
  cancel(reason: unknown): void;
}

/**
 * The receive side: a queue of bytes from the server, read through a pull-based
 * ReadableStream, so the end of the stream (or its error) is delivered only after
 * every byte before it.
 */
export class ReceiveQueue {
  readonly readable: ReadableStream<Uint8Array>;
  private readonly chunks: Uint8Array[] = [];
  private bytes = 0;
  private ending: { error: unknown } | undefined;
  private done = false;
  private wake: (() => void) | undefined;
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;

  constructor(
    private readonly flow: ReceiveFlow,
    private readonly highWaterMark: number,
  ) {
    // The stream's own queue stays empty (highWaterMark 0): chunks wait here, where they are counted.
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        pull: () => this.pull(),
        cancel: (reason) => {
          this.done = true;
          this.chunks.length = 0;
          this.bytes = 0;
          this.flow.cancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
  }

  /** Bytes received and not yet taken by the reader. */
  get queuedBytes(): number {
    return this.bytes;
  }

  push(chunk: Uint8Array): void {
    if (this.done || this.ending) return;
    this.chunks.push(chunk);
    this.bytes += chunk.byteLength;
    if (this.bytes >= this.highWaterMark) this.flow.pause();
    this.notify();
  }

  /** No more data: the reader sees the end (or `error`) after the queued bytes. */
  end(error?: unknown): void {
    if (this.done || this.ending) return;
    this.ending = { error };
    this.notify();
  }

  /** Fails at once, dropping what is queued. */
  fail(error: unknown): void {
    if (this.done) return;
    this.done = true;
    this.chunks.length = 0;
    this.bytes = 0;
    this.controller?.error(error);
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private pull(): Promise<void> | undefined {
    if (this.done) return undefined;
    const controller = this.controller as ReadableStreamDefaultController<Uint8Array>;
    const chunk = this.chunks.shift();
    if (chunk) {
      this.bytes -= chunk.byteLength;
      if (this.bytes < this.highWaterMark) this.flow.resume();
      controller.enqueue(chunk);
      return undefined;
    }
    if (this.ending) {
      this.done = true;
      if (this.ending.error === undefined) controller.close();
      else controller.error(this.ending.error);
      return undefined;
    }
    return new Promise<void>((resolve) => {
      this.wake = resolve;
    }).then(() => this.pull());
  }
}

/** What the send side needs from the WebSocket. */
export interface SendPort {
  send(frame: Uint8Array): void;
  bufferedAmount(): number;
  /** Why sending is impossible now, or undefined while the connection is open. */
  closedError(): Socket2WebError | undefined;
  abort(reason: unknown): void;
}

/** Largest frame sent: bigger writes are split, which TCP semantics allow and keeps under the server's message limit. */
export const MAX_FRAME_BYTES = 1024 * 1024;

/** Longest pause between two looks at `bufferedAmount`; browsers offer no drain event. */
const MAX_POLL_MS = 8;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits while more than `limit` bytes are buffered; fails if the connection closes meanwhile. */
export async function drainBelow(port: SendPort, limit: number): Promise<void> {
  let delay = 1;
  for (;;) {
    const error = port.closedError();
    if (error) throw error;
    if (port.bufferedAmount() <= limit) return;
    await sleep(delay);
    delay = Math.min(delay * 2, MAX_POLL_MS);
  }
}

/**
 * The send side. `write()` resolves once the frame is handed to the WebSocket and its
 * buffer is back under `highWaterMark`. `close()` waits until the buffer is empty but
 * leaves the connection open: the protocol has no half-close, so ending the connection
 * is `Connection.close()`.
 */
export function createWritable(port: SendPort, highWaterMark: number): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    async write(chunk) {
      if (!(chunk instanceof Uint8Array)) {
        throw new TypeError("socket2web: write() takes a Uint8Array");
      }
      for (let offset = 0; offset < chunk.byteLength; offset += MAX_FRAME_BYTES) {
        const error = port.closedError();
        if (error) throw error;
        port.send(chunk.subarray(offset, offset + MAX_FRAME_BYTES));
        await drainBelow(port, highWaterMark);
      }
    },
    close: () => drainBelow(port, 0),
    abort: (reason) => port.abort(reason),
  });
}
