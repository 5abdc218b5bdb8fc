/**
 * The most a limit lets through at once after a quiet spell, as time at its rate. It also absorbs
 * a reader woken late by a busy event loop: the bytes it could have read meanwhile are kept, up to
 * this much, so a limit still averages its rate on a loaded machine. A tenth of a second is short
 * enough that nobody notices the burst, long enough to cover timers that fire tens of ms late.
 */
const BURST_SECONDS = 0.1;
/** Below this a burst would not hold one socket read, and every read would pause. */
const MIN_BURST_BYTES = 16 * 1024;

export interface BandwidthOptions {
  readonly bytesPerSecond: number;
  /** Default: a tenth of a second at the rate, at least 16 KiB. */
  readonly burstBytes?: number;
  /** Milliseconds; tests inject a clock (default `performance.now`). */
  readonly now?: () => number;
}

/**
 * A token bucket in bytes, shared by every session it limits (a principal's) or owned by one.
 * Bytes are counted after they were read, so the bucket may go below zero: that debt is what the
 * reader waits for (`consume` returns the wait). It starts empty, not full, so that opening sessions
 * one after another gains no burst, and a session's rate is its limit from its first byte.
 *
 * Sharing is fair enough: a reader that waited resumes and reads (at least one chunk) without
 * asking again, so no session sharing the bucket starves; readers in the bucket's debt together
 * each wait for all of it, so together they get the rate.
 */
export class Bandwidth {
  readonly bytesPerSecond: number;
  readonly burstBytes: number;
  private readonly now: () => number;
  /** Bytes that may pass now; below zero, bytes already read ahead of the rate. */
  private tokens = 0;
  private at: number;

  constructor(options: BandwidthOptions) {
    const { bytesPerSecond } = options;
    if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) {
      throw new RangeError(`bandwidth: bytesPerSecond must be above 0, not ${bytesPerSecond}`);
    }
    const burst =
      options.burstBytes ?? Math.max(MIN_BURST_BYTES, Math.round(bytesPerSecond * BURST_SECONDS));
    if (!Number.isFinite(burst) || burst < 1) {
      throw new RangeError(`bandwidth: burstBytes must be at least 1, not ${burst}`);
    }
    this.bytesPerSecond = bytesPerSecond;
    this.burstBytes = burst;
    this.now = options.now ?? (() => performance.now());
    this.at = this.now();
  }

  /**
   * `bytes` were read: takes them, and returns how many milliseconds the reader should stop for
   * (0: it may read on).
   */
  consume(bytes: number): number {
    this.refill();
    this.tokens -= bytes;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.bytesPerSecond;
  }

  private refill(): void {
    const at = this.now();
    // A clock that steps back must not mint tokens.
    const elapsed = Math.max(0, at - this.at);
    this.at = Math.max(at, this.at);
    this.tokens = Math.min(this.burstBytes, this.tokens + (elapsed * this.bytesPerSecond) / 1000);
  }
}

/**
 * The limits on one session, each direction under all of its own at once (say the principal's
 * shared one and one of the session's own). `up`: client → target; `down`: target → client.
 */
export interface SessionBandwidth {
  readonly up: readonly Bandwidth[];
  readonly down: readonly Bandwidth[];
}

/** Takes `bytes` from every limit; the wait is the longest any of them asks. */
export function consumeAll(limits: readonly Bandwidth[], bytes: number): number {
  let wait = 0;
  for (const limit of limits) wait = Math.max(wait, limit.consume(bytes));
  return wait;
}

/** Milliseconds `bytes` take at the slowest of `limits`. */
export function timeAtRate(limits: readonly Bandwidth[], bytes: number): number {
  let ms = 0;
  for (const limit of limits) ms = Math.max(ms, (bytes * 1000) / limit.bytesPerSecond);
  return ms;
}

/** The lowest rate of `limits`, in bytes per second (infinite for none). */
export function slowestRate(limits: readonly Bandwidth[]): number {
  let rate = Number.POSITIVE_INFINITY;
  for (const limit of limits) rate = Math.min(rate, limit.bytesPerSecond);
  return rate;
}
