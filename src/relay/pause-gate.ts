/**
 * Pauses one reader while any reason holds and resumes it once none does, so that one reason
 * lifting (a backlog drained) never resumes a reader that another (a bandwidth limit, a shutdown)
 * still holds.
 */
export class PauseGate<Reason extends string> {
  /** Made at the first hold: most sessions never pause, and there is one gate per side. */
  private holds: Set<Reason> | undefined;

  constructor(private readonly reader: { pause(): void; resume(): void }) {}

  get paused(): boolean {
    return this.holds !== undefined && this.holds.size > 0;
  }

  has(reason: Reason): boolean {
    return this.holds?.has(reason) === true;
  }

  /** Sets or lifts `reason`; pauses or resumes the reader when that changes whether it reads. */
  hold(reason: Reason, on: boolean): void {
    if (on === this.has(reason)) return;
    if (on) {
      this.holds ??= new Set();
      this.holds.add(reason);
      if (this.holds.size === 1) this.reader.pause();
    } else if (this.holds) {
      this.holds.delete(reason);
      if (this.holds.size === 0) this.reader.resume();
    }
  }

  /** The reader is gone: nothing to resume any more. */
  clear(): void {
    this.holds?.clear();
  }
}
