// The bench's time budget: phases ask before starting work that the budget may not cover.

export class Budget {
  private readonly started = Date.now();
  constructor(private readonly limitMs: number) {}

  elapsedMs(): number {
    return Date.now() - this.started;
  }

  /** True if `needMs` more still fits in the budget. */
  allows(needMs: number): boolean {
    return this.elapsedMs() + needMs <= this.limitMs;
  }
}

/** Rows in a different order on each repeat (rotation), so slow drift hits every row alike. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length === 0) return [];
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
