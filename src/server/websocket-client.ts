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
 * that died for ever. So while paused, every `checkMs` it pings and reads again until the next
 * message or pong (then pauses again; what arrives meanwhile is at most one read's worth), and a
 * client that answered nothing since the previous ping is dropped.
 */
export class WebSocketClient implements SessionClient {
  private paused = false;
  private peeking = false;
  private heardAt = performance.now();
  private pingedAt: number | undefined;
  private watchdog: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly ws: ClientSocket,
    /** How often a paused client is checked; a dead one goes within twice this. */
    private readonly checkMs: number,
  ) {}

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
    this.watchdog ??= setInterval(() => this.check(), this.checkMs);
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

  /** A message or a pong arrived: the client is alive. Call before handing a message on. */
  heard(): void {
    this.heardAt = performance.now();
    if (this.peeking) {
      this.peeking = false;
      this.ws.pause();
    }
  }

  /** The WebSocket has closed. */
  dispose(): void {
    this.stopWatchdog();
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
