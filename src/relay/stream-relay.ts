import type { TargetConnection } from "../adapters/types.ts";
import { BaseRelay } from "./base-relay.ts";
import { ByteQueue } from "./byte-queue.ts";
import type { TargetRelay } from "./types.ts";

const NO_DROPS = { toTarget: 0, toClient: 0 } as const;

/**
 * A byte stream both ways with end-to-end flow control: the side that is ahead stops being read
 * while the other side's backlog is above the high-water mark. Chunks may be split (partial
 * writes) and their boundaries mean nothing.
 */
export class StreamRelay extends BaseRelay implements TargetRelay {
  readonly dropped = NO_DROPS;

  protected readonly toTarget = new ByteQueue();
  /** Target bytes that arrived before `attach` (a TLS record read with the handshake). */
  private held: Uint8Array[] | undefined = [];

  fromClient(chunk: Uint8Array): void {
    this.countFromClient(chunk.byteLength);
    const target = this.target;
    if (target && this.toTarget.isEmpty) {
      const written = this.write(target, chunk);
      if (written === chunk.byteLength) return;
      this.toTarget.push(chunk.subarray(written));
    } else {
      this.toTarget.push(chunk);
    }
    this.holdClientIfBehind();
  }

  fromTarget(chunk: Uint8Array): void {
    this.countFromTarget(chunk.byteLength);
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
    if (!this.targetGate.paused) target.resume();
  }

  clientDrained(): void {
    if (this.targetGate.has("backlog") && this.client.bufferedAmount() < this.limits.lowWater) {
      this.targetGate.hold("backlog", false);
      this.observer.targetPaused?.(false);
    }
  }

  private sendToClient(chunk: Uint8Array): void {
    if (
      this.client.send(chunk) < 0 &&
      !this.targetGate.has("backlog") &&
      this.client.bufferedAmount() >= this.limits.highWater
    ) {
      this.targetGate.hold("backlog", true);
      this.observer.targetPaused?.(true);
    }
  }

  protected flushToTarget(): void {
    const target = this.target;
    if (!target) return;
    if (!this.toTarget.isEmpty) this.toTarget.drainInto((chunk) => this.write(target, chunk));
    this.flushed(target);
  }
}
