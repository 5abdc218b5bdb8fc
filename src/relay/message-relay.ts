import type { TargetConnection } from "../adapters/types.ts";
import { CloseCode } from "../protocol/constants.ts";
import { MessageQueue } from "./message-queue.ts";
import type { ClientSide, FlowLimits, RelayOptions, TargetRelay } from "./relay.ts";

/**
 * Messages both ways, each delivered whole or not at all: never merged, never split.
 *
 * Towards the target the queue is bounded like a stream's (the client stops being read above the
 * high-water mark), so nothing is dropped there unless the target's own socket refuses a datagram.
 * A datagram transport cannot be paused, so towards the client a datagram that finds the client's
 * backlog at the high-water mark is dropped, where a full UDP receive buffer would drop it; both
 * kinds of loss are counted.
 */
export class MessageRelay implements TargetRelay {
  bytesFromClient = 0;
  bytesFromTarget = 0;
  lastActivity = Date.now();
  readonly dropped = { toTarget: 0, toClient: 0 };

  private readonly client: ClientSide;
  private readonly limits: FlowLimits;
  private readonly trackActivity: boolean;
  private readonly toTarget = new MessageQueue();
  /** Target messages that arrived before `attach`, bounded like the client's backlog. */
  private held: MessageQueue | undefined = new MessageQueue();
  private target: TargetConnection | undefined;
  private clientPaused = false;
  private endTargetWhenFlushed = false;

  constructor({ client, limits, trackActivity = false }: RelayOptions) {
    this.client = client;
    this.limits = limits;
    this.trackActivity = trackActivity;
  }

  get pendingToTarget(): number {
    return this.toTarget.bytes;
  }

  fromClient(message: Uint8Array): void {
    this.bytesFromClient += message.byteLength;
    if (this.trackActivity) this.lastActivity = Date.now();
    this.toTarget.push(message);
    if (this.target) this.flushToTarget();
    if (!this.clientPaused && this.toTarget.bytes >= this.limits.highWater) {
      this.clientPaused = true;
      this.client.pause();
    }
  }

  fromTarget(message: Uint8Array): void {
    this.bytesFromTarget += message.byteLength;
    if (this.trackActivity) this.lastActivity = Date.now();
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
    target.resume();
  }

  targetDrained(): void {
    this.flushToTarget();
  }

  /** Nothing to resume: the target is never paused, its surplus is dropped instead. */
  clientDrained(): void {}

  endTargetAfterFlush(): void {
    this.endTargetWhenFlushed = true;
    this.flushToTarget();
  }

  discard(): void {
    this.toTarget.clear();
    this.target = undefined;
  }

  private sendToClient(message: Uint8Array): void {
    if (this.client.bufferedAmount() >= this.limits.highWater) this.dropped.toClient++;
    else this.client.send(message);
  }

  private flushToTarget(): void {
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
      } catch {
        // The kernel refused this datagram (ENOBUFS and the like): lost, as UDP loses it.
        this.dropped.toTarget++;
        taken = message.byteLength;
      }
      if (taken < 0) break;
      this.toTarget.shift();
    }
    if (this.clientPaused && this.toTarget.bytes < this.limits.lowWater) {
      this.clientPaused = false;
      this.client.resume();
    }
    if (this.toTarget.isEmpty && this.endTargetWhenFlushed) {
      this.target = undefined;
      target.end();
    }
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
