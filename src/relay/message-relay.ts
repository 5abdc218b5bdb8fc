import type { TargetConnection } from "../adapters/types.ts";
import { CloseCode } from "../protocol/constants.ts";
import { BaseRelay } from "./base-relay.ts";
import { MessageQueue } from "./message-queue.ts";
import type { TargetRelay } from "./types.ts";

/**
 * Messages both ways, each delivered whole or not at all: never merged, never split.
 *
 * Towards the target the queue is bounded like a stream's (the client stops being read above the
 * high-water mark), so nothing is dropped there unless the target's own socket refuses a datagram.
 * A datagram transport cannot be paused, so towards the client a datagram that finds the client's
 * backlog at the high-water mark is dropped, where a full UDP receive buffer would drop it; both
 * kinds of loss are counted.
 */
export class MessageRelay extends BaseRelay implements TargetRelay {
  readonly dropped = { toTarget: 0, toClient: 0 };

  protected readonly toTarget = new MessageQueue();
  /** Target messages that arrived before `attach`, bounded like the client's backlog. */
  private held: MessageQueue | undefined = new MessageQueue();

  fromClient(message: Uint8Array): void {
    this.countFromClient(message.byteLength);
    this.toTarget.push(message);
    if (this.target) this.flushToTarget();
    this.holdClientIfBehind();
  }

  fromTarget(message: Uint8Array): void {
    this.countFromTarget(message.byteLength);
    if (this.held) {
      if (this.held.bytes >= this.limits.highWater) this.dropped.toClient++;
      else this.held.push(message);
      return;
    }
    this.sendToClient(message);
  }

  attach(target: TargetConnection): void {
    this.target = target;
    const held = this.held;
    this.held = undefined;
    for (let message = held?.shift(); message; message = held?.shift()) this.sendToClient(message);
    this.flushToTarget();
    if (!this.targetGate.paused) target.resume();
  }

  /** Nothing to resume: the target is never paused, its surplus is dropped instead. */
  clientDrained(): void {}

  private sendToClient(message: Uint8Array): void {
    if (this.client.bufferedAmount() >= this.limits.highWater) this.dropped.toClient++;
    else this.client.send(message);
  }

  protected flushToTarget(): void {
    const target = this.target;
    if (!target) return;
    const max = target.maxMessageBytes ?? Number.POSITIVE_INFINITY;
    for (let message = this.toTarget.peek(); message; message = this.toTarget.peek()) {
      if (message.byteLength > max) {
        this.tooBig(message.byteLength, max);
        break;
      }
      let taken: number;
      try {
        taken = target.write(message);
        if (taken >= 0) this.observer.toTarget?.(message);
      } catch {
        // The kernel refused this datagram (ENOBUFS and the like): lost, as UDP loses it.
        this.dropped.toTarget++;
        taken = message.byteLength;
      }
      if (taken < 0) break;
      this.toTarget.shift();
    }
    this.flushed(target);
  }

  /** A message the target's transport cannot carry whole ends the session: it is never split. */
  private tooBig(size: number, max: number): void {
    this.toTarget.clear();
    this.client.close(
      CloseCode.messageTooBig,
      `message of ${size} bytes exceeds the target's limit of ${max} bytes`,
    );
  }
}
