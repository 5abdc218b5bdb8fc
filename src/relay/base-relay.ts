import type { TargetConnection } from "../adapters/types.ts";
import { consumeAll, type SessionBandwidth } from "../limits/bandwidth.ts";
import { PauseGate } from "./pause-gate.ts";
import type { ClientSide, FlowLimits, RelayObserver, RelayOptions } from "./types.ts";

const NO_OBSERVER: RelayObserver = { targetEnded() {} };

/**
 * Why a side is not being read: the other side's backlog is above the high-water mark, a bandwidth
 * limit is owed time, or a shutdown froze the session.
 */
export type PauseReason = "backlog" | "bandwidth" | "shutdown";

/**
 * A bandwidth limit lets a side run into debt until it owes at least this long, then pauses it:
 * shorter pauses would cost a timer and a pause/resume pair per read at high rates, for nothing
 * (the debt is repaid either way, so the rate is the same).
 */
const SHORTEST_PAUSE_MS = 4;

type Direction = keyof SessionBandwidth;

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
  /** Reading the client (up); `backlog`: the target's queue is above the high-water mark. */
  protected readonly clientGate: PauseGate<PauseReason>;
  /** Reading the target (down); before `attach` the target is not read whatever this says. */
  protected readonly targetGate = new PauseGate<PauseReason>({
    pause: () => this.target?.pause(),
    resume: () => this.target?.resume(),
  });
  private readonly trackActivity: boolean;
  private endTargetWhenFlushed = false;
  private bandwidth: SessionBandwidth | undefined;
  /** The one timer per direction that lifts its bandwidth pause. */
  private readonly owed: Record<Direction, ReturnType<typeof setTimeout> | undefined> = {
    up: undefined,
    down: undefined,
  };

  constructor({ client, limits, observer, trackActivity = false }: RelayOptions) {
    this.client = client;
    this.clientGate = new PauseGate(client);
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
    this.stopWaiting();
  }

  limit(bandwidth: SessionBandwidth): void {
    this.bandwidth = bandwidth;
  }

  freeze(): void {
    this.clientGate.hold("shutdown", true);
    this.targetGate.hold("shutdown", true);
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
    this.charge("up", bytes);
  }

  protected countFromTarget(bytes: number): void {
    this.bytesFromTarget += bytes;
    if (this.trackActivity) this.lastActivity = Date.now();
    this.charge("down", bytes);
  }

  /** After queueing for the target: stop reading the client at the high-water mark. */
  protected holdClientIfBehind(): void {
    if (this.toTarget.bytes >= this.limits.highWater) this.clientGate.hold("backlog", true);
  }

  /** After writing to the target: read the client again below the low-water mark; end if asked. */
  protected flushed(target: TargetConnection): void {
    if (this.toTarget.bytes < this.limits.lowWater) this.clientGate.hold("backlog", false);
    if (this.toTarget.isEmpty && this.endTargetWhenFlushed) {
      this.target = undefined;
      this.stopWaiting();
      target.end();
      this.observer.targetEnded();
    }
  }

  /**
   * `bytes` were read in `direction`: they go on whatever the limits say (never dropped), and the
   * side they came from stops being read for as long as the limits ask. When the wait is over it
   * reads again without asking the limits first: a session sharing a limit with busier ones then
   * still gets its turn.
   */
  private charge(direction: Direction, bytes: number): void {
    const limits = this.bandwidth?.[direction];
    if (!limits || bytes === 0) return;
    const wait = consumeAll(limits, bytes);
    // Already waiting: bytes that were on their way count, and are waited for at the next turn.
    if (wait < SHORTEST_PAUSE_MS || this.owed[direction] !== undefined) return;
    const gate = direction === "up" ? this.clientGate : this.targetGate;
    gate.hold("bandwidth", true);
    this.owed[direction] = setTimeout(() => {
      this.owed[direction] = undefined;
      gate.hold("bandwidth", false);
    }, Math.ceil(wait));
  }

  /** Nothing more is read (the target is gone): the bandwidth timers have nothing to resume. */
  private stopWaiting(): void {
    clearTimeout(this.owed.up);
    clearTimeout(this.owed.down);
    this.owed.up = undefined;
    this.owed.down = undefined;
  }
}
