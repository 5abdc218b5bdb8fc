import type { ServerWebSocket } from "bun";
import type { SessionClient } from "../session/client.ts";

/** The part of Bun's ServerWebSocket a session's client side uses. */
export type ClientSocket = Pick<
  ServerWebSocket<unknown>,
  "send" | "sendBinary" | "getBufferedAmount" | "pause" | "resume" | "close" | "ping" | "terminate"
>;

/**
 * A WebSocket as a session's client side, with dead-client detection that also works while the
 * socket is paused. Bun pings an idle WebSocket and drops it when no answer comes within its
 * idleTimeout, but a paused WebSocket is read by nobody, so Bun neither pings it nor times it out
 * (measured on Bun 1.4.5): a session held back by a target that does not read would keep a client
 * that died for ever. So while paused, every `checkMs` it pings and reads again until the pong
 * (only a pong proves the client is alive now: messages read meanwhile may have been sent long
 * before), then pauses again; a client that has not answered by the next check is dropped.
 * Messages read during checks join the session's queue, so they are bounded by `readBudget` bytes
 * over the socket's life; once that is spent the checks stop and the client is kept (a live
 * client that keeps sending is what spends it).
 */
export class WebSocketClient implements SessionClient {
  private paused = false;
  private peeking = false;
  private heardAt = performance.now();
  private pingedAt: number | undefined;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private budget: number;

  constructor(
    private readonly ws: ClientSocket,
    /** How often a paused client is checked; a dead one goes within twice this. */
    private readonly checkMs: number,
    readBudget: number,
  ) {
    this.budget = readBudget;
  }

  sendText(text: string): void {
    this.ws.send(text);
  }

  sendBinary(chunk: Uint8Array): number {
    return this.ws.sendBinary(chunk);
  }

  bufferedAmount(): number {
    return this.ws.getBufferedAmount();
  }

  pause(): void {
    this.paused = true;
    this.peeking = false;
    this.ws.pause();
    if (this.budget > 0) this.watchdog ??= setInterval(() => this.check(), this.checkMs);
  }

  resume(): void {
    this.paused = false;
    this.peeking = false;
    this.stopWatchdog();
    this.ws.resume();
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  /** A pong arrived: the client is alive. */
  ponged(): void {
    this.heardAt = performance.now();
    if (this.peeking) this.pauseAgain();
  }

  /** A message of `bytes` arrived; call before handing it on. */
  received(bytes: number): void {
    if (!this.peeking) return;
    this.budget -= bytes;
    if (this.budget <= 0) {
      this.stopWatchdog();
      this.pauseAgain();
    }
  }

  /** The WebSocket has closed. */
  dispose(): void {
    this.stopWatchdog();
  }

  private pauseAgain(): void {
    this.peeking = false;
    this.ws.pause();
  }

  private check(): void {
    if (!this.paused) return;
    if (this.pingedAt !== undefined && this.heardAt < this.pingedAt) {
      this.stopWatchdog();
      this.ws.terminate();
      return;
    }
    this.pingedAt = performance.now();
    this.ws.ping();
    if (!this.peeking) {
      this.peeking = true;
      this.ws.resume();
    }
  }

  private stopWatchdog(): void {
    clearInterval(this.watchdog);
    this.watchdog = undefined;
    this.pingedAt = undefined;
  }
}
