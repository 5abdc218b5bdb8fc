import type { TargetConnection } from "../adapters/types.ts";
import { ByteQueue } from "./byte-queue.ts";

/** The client's end of the relay: a WebSocket seen as a byte sink and source with backpressure. */
export interface ClientSide {
  /** Bun's send status: bytes sent, -1 when queued behind backpressure (0, dropped, must not happen). */
  send(chunk: Uint8Array): number;
  bufferedAmount(): number;
  pause(): void;
  resume(): void;
}

export interface FlowLimits {
  /** Bytes waiting for one side above which the other side stops being read. */
  readonly highWater: number;
  /** Reading resumes once the backlog falls below this. */
  readonly lowWater: number;
}

/**
 * Moves bytes both ways between a client and a target with end-to-end flow control: the side that
 * is ahead stops being read while the other side's backlog is above the high-water mark.
 */
export class Relay {
  bytesFromClient = 0;
  bytesFromTarget = 0;
  /** Date.now() of the last byte moved in either direction; kept only when `trackActivity`. */
  lastActivity = Date.now();

  private readonly toTarget = new ByteQueue();
  private target: TargetConnection | undefined;
  private clientPaused = false;
  private targetPaused = false;
  private endTargetWhenFlushed = false;

  constructor(
    private readonly client: ClientSide,
    private readonly limits: FlowLimits,
    /** Read the clock per chunk only when an idle timeout needs it. */
    private readonly trackActivity = false,
  ) {}

  /** Bytes received from the client that the target has not taken yet. */
  get pendingToTarget(): number {
    return this.toTarget.bytes;
  }

  fromClient(chunk: Uint8Array): void {
    this.bytesFromClient += chunk.byteLength;
    if (this.trackActivity) this.lastActivity = Date.now();
    const target = this.target;
    if (target && this.toTarget.isEmpty) {
      const written = target.write(chunk);
      if (written === chunk.byteLength) return;
      this.toTarget.push(chunk.subarray(written));
    } else {
      this.toTarget.push(chunk);
    }
    if (!this.clientPaused && this.toTarget.bytes >= this.limits.highWater) {
      this.clientPaused = true;
      this.client.pause();
    }
  }

  fromTarget(chunk: Uint8Array): void {
    this.bytesFromTarget += chunk.byteLength;
    if (this.trackActivity) this.lastActivity = Date.now();
    if (
      this.client.send(chunk) < 0 &&
      !this.targetPaused &&
      this.client.bufferedAmount() >= this.limits.highWater
    ) {
      this.targetPaused = true;
      this.target?.pause();
    }
  }

  /** The target is open: what the client sent meanwhile goes first, then reading starts. */
  attach(target: TargetConnection): void {
    this.target = target;
    this.flushToTarget();
    if (!this.targetPaused) target.resume();
  }

  targetDrained(): void {
    this.flushToTarget();
  }

  clientDrained(): void {
    if (this.targetPaused && this.client.bufferedAmount() < this.limits.lowWater) {
      this.targetPaused = false;
      this.target?.resume();
    }
  }

  /** The client is gone: the target gets what was already received, then its end of stream. */
  endTargetAfterFlush(): void {
    this.endTargetWhenFlushed = true;
    this.flushToTarget();
  }

  /** Drops whatever is still queued, for a relay that is being torn down. */
  discard(): void {
    this.toTarget.clear();
    this.target = undefined;
  }

  private flushToTarget(): void {
    const target = this.target;
    if (!target) return;
    const flushed = this.toTarget.drainInto((chunk) => target.write(chunk));
    if (this.clientPaused && this.toTarget.bytes < this.limits.lowWater) {
      this.clientPaused = false;
      this.client.resume();
    }
    if (flushed && this.endTargetWhenFlushed) {
      this.target = undefined;
      target.end();
    }
  }
}
