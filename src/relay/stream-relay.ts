import type { TargetConnection } from "../adapters/types.ts";
import { ByteQueue } from "./byte-queue.ts";
import type { ClientSide, FlowLimits, RelayOptions, TargetRelay } from "./relay.ts";

const NO_DROPS = { toTarget: 0, toClient: 0 } as const;

/**
 * A byte stream both ways with end-to-end flow control: the side that is ahead stops being read
 * while the other side's backlog is above the high-water mark. Chunks may be split (partial
 * writes) and their boundaries mean nothing.
 */
export class StreamRelay implements TargetRelay {
  bytesFromClient = 0;
  bytesFromTarget = 0;
  lastActivity = Date.now();
  readonly dropped = NO_DROPS;

  private readonly client: ClientSide;
  private readonly limits: FlowLimits;
  private readonly trackActivity: boolean;
  private readonly toTarget = new ByteQueue();
  /** Target bytes that arrived before `attach` (a TLS record read with the handshake). */
  private held: Uint8Array[] | undefined = [];
  private target: TargetConnection | undefined;
  private clientPaused = false;
  private targetPaused = false;
  private endTargetWhenFlushed = false;

  constructor({ client, limits, trackActivity = false }: RelayOptions) {
    this.client = client;
    this.limits = limits;
    this.trackActivity = trackActivity;
  }

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
    if (this.held) {
      this.held.push(chunk);
      return;
    }
    this.sendToClient(chunk);
  }

  attach(target: TargetConnection): void {
    this.target = target;
    const held = this.held ?? [];
    this.held = undefined;
    for (const chunk of held) this.sendToClient(chunk);
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

  endTargetAfterFlush(): void {
    this.endTargetWhenFlushed = true;
    this.flushToTarget();
  }

  discard(): void {
    this.toTarget.clear();
    this.target = undefined;
  }

  private sendToClient(chunk: Uint8Array): void {
    if (
      this.client.send(chunk) < 0 &&
      !this.targetPaused &&
      this.client.bufferedAmount() >= this.limits.highWater
    ) {
      this.targetPaused = true;
      this.target?.pause();
    }
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
