import type { TargetConnection } from "../adapters/types.ts";
import {
  type Bandwidth,
  consumeAll,
  type SessionBandwidth,
  timeAtRate,
} from "../limits/bandwidth.ts";
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

interface Waiting {
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Bytes read after the pause began. */
  late: number;
}

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
  /** When a byte last moved (kept only with `trackActivity`). */
  private lastMoved = Date.now();

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
  /**
   * Per direction: the one timer that lifts its bandwidth pause, and bytes read meanwhile. Made at
   * the first pause: most sessions have no bandwidth limit.
   */
  private waits: Record<Direction, Waiting> | undefined;

  constructor({ client, limits, observer, trackActivity = false }: RelayOptions) {
    this.client = client;
    this.clientGate = new PauseGate(client);
    this.observer = observer ?? NO_OBSERVER;
    this.limits = limits;
    this.trackActivity = trackActivity;
  }

  /**
   * When the session was last active: a byte moved, or now while a bandwidth limit holds a side
   * back (the session has bytes to move; its limit, not its client, keeps them waiting).
   */
  get lastActivity(): number {
    const waits = this.waits;
    const held =
      waits !== undefined && (waits.up.timer !== undefined || waits.down.timer !== undefined);
    return held ? Date.now() : this.lastMoved;
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
    // What was read before the limits were known (while the target was being opened) counts too.
    this.charge("up", this.bytesFromClient);
    this.charge("down", this.bytesFromTarget);
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
    if (this.trackActivity) this.lastMoved = Date.now();
    this.charge("up", bytes);
  }

  protected countFromTarget(bytes: number): void {
    this.bytesFromTarget += bytes;
    if (this.trackActivity) this.lastMoved = Date.now();
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
    const waiting = this.waits?.[direction];
    if (waiting?.timer !== undefined) {
      // A pause stops reading only after what the socket has already read (a WebSocket delivers
      // the rest of its read, up to 512 KiB): those bytes are waited for before it reads again.
      waiting.late += bytes;
      return;
    }
    if (wait >= SHORTEST_PAUSE_MS) this.wait(direction, limits, wait);
  }

  private wait(direction: Direction, limits: readonly Bandwidth[], ms: number): void {
    const gate = direction === "up" ? this.clientGate : this.targetGate;
    this.waits ??= { up: { timer: undefined, late: 0 }, down: { timer: undefined, late: 0 } };
    const waiting = this.waits[direction];
    gate.hold("bandwidth", true);
    const lift = () => {
      // Without this wait for what arrived during the pause, a reader would stay that far ahead
      // of its rate for ever.
      const late = timeAtRate(limits, waiting.late);
      waiting.late = 0;
      if (late >= SHORTEST_PAUSE_MS) {
        waiting.timer = setTimeout(lift, Math.ceil(late));
        return;
      }
      waiting.timer = undefined;
      // The quiet period starts when the limit lets the side go, not when its last bytes came.
      if (this.trackActivity) this.lastMoved = Date.now();
      gate.hold("bandwidth", false);
    };
    waiting.timer = setTimeout(lift, Math.ceil(ms));
  }

  /** Nothing more is read (the target is gone): the bandwidth timers have nothing to resume. */
  private stopWaiting(): void {
    const waits = this.waits;
    if (!waits) return;
    clearTimeout(waits.up.timer);
    clearTimeout(waits.down.timer);
    waits.up.timer = undefined;
    waits.down.timer = undefined;
  }
}
