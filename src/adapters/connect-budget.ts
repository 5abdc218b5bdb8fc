/**
 * How many TCP connects nothing can cancel may be under way at once. Each holds a descriptor
 * until its target answers or the kernel gives up (about two minutes for a target that never
 * answers), whatever became of its session: so this number bounds the descriptors that abandoned
 * connects can keep (docs/security.md).
 */
export const UNCANCELLABLE_CONNECTS = 64;

/** Counts the uncancellable connects under way against a fixed size. */
export class ConnectBudget {
  private pending = 0;

  constructor(readonly size: number) {}

  /** Connects under way that were taken from this budget. */
  get underWay(): number {
    return this.pending;
  }

  /** Takes a place for one more connect, if one is free; `give()` returns it once it settles. */
  take(): boolean {
    if (this.pending >= this.size) return false;
    this.pending++;
    return true;
  }

  give(): void {
    this.pending--;
  }
}

/** The process's budget, shared by every adapter that connects over TCP (tcp, tls). */
export const uncancellableConnects = new ConnectBudget(UNCANCELLABLE_CONNECTS);
