import type { TargetConnection } from "../adapters/types.ts";
import type { ClientSide, FlowLimits, RelayObserver, RelayOptions } from "./types.ts";

const NO_OBSERVER: RelayObserver = { targetEnded() {} };

/** A queue towards the target, as each transport keeps one: bytes or whole messages. */
interface TargetQueue {
  readonly bytes: number;
  readonly isEmpty: boolean;
  clear(): void;
}

/**
 * What every relay does whatever its transport: the counts and activity clock, holding the client
 * back while the target's backlog is above the high-water mark, and ending the target once its
 * backlog is flushed. A transport's relay adds how it queues, writes and sends.
 */
export abstract class BaseRelay {
  bytesFromClient = 0;
  bytesFromTarget = 0;
  lastActivity = Date.now();

  protected readonly client: ClientSide;
  protected readonly limits: FlowLimits;
  protected readonly observer: RelayObserver;
  protected target: TargetConnection | undefined;
  protected abstract readonly toTarget: TargetQueue;
  private readonly trackActivity: boolean;
  private clientPaused = false;
  private endTargetWhenFlushed = false;

  constructor({ client, limits, observer, trackActivity = false }: RelayOptions) {
    this.client = client;
    this.observer = observer ?? NO_OBSERVER;
    this.limits = limits;
    this.trackActivity = trackActivity;
  }

  get pendingToTarget(): number {
    return this.toTarget.bytes;
  }

  targetDrained(): void {
    this.flushToTarget();
  }

  endTargetAfterFlush(): void {
    this.endTargetWhenFlushed = true;
    this.flushToTarget();
  }

  discard(): void {
    this.toTarget.clear();
    this.target = undefined;
  }

  /** Writes to the target, telling the observer what it took. */
  protected write(target: TargetConnection, chunk: Uint8Array): number {
    const written = target.write(chunk);
    const observe = this.observer.toTarget;
    if (observe && written > 0) {
      observe(written === chunk.byteLength ? chunk : chunk.subarray(0, written));
    }
    return written;
  }

  /** Writes what the target will take now; calls `flushed` after. */
  protected abstract flushToTarget(): void;

  protected countFromClient(bytes: number): void {
    this.bytesFromClient += bytes;
    if (this.trackActivity) this.lastActivity = Date.now();
  }

  protected countFromTarget(bytes: number): void {
    this.bytesFromTarget += bytes;
    if (this.trackActivity) this.lastActivity = Date.now();
  }

  /** After queueing for the target: stop reading the client at the high-water mark. */
  protected holdClientIfBehind(): void {
    if (!this.clientPaused && this.toTarget.bytes >= this.limits.highWater) {
      this.clientPaused = true;
      this.client.pause();
    }
  }

  /** After writing to the target: read the client again below the low-water mark; end if asked. */
  protected flushed(target: TargetConnection): void {
    if (this.clientPaused && this.toTarget.bytes < this.limits.lowWater) {
      this.clientPaused = false;
      this.client.resume();
    }
    if (this.toTarget.isEmpty && this.endTargetWhenFlushed) {
      this.target = undefined;
      target.end();
      this.observer.targetEnded();
    }
  }
}
