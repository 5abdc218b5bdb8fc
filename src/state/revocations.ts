/** Principals remembered as refused at most: past it the one that ends soonest is forgotten. */
export const MAX_REVOCATIONS = 10_000;

/**
 * Principals whose new sessions are refused until a time an operator chose (`DELETE
 * /sessions?principal=NAME&until=TIME`). Each process keeps them; with `--state` the fleet's
 * store hands them to every instance.
 */
export interface Revocations {
  /** Until when `name`'s new sessions are refused (ms since the epoch), or undefined. */
  until(name: string): number | undefined;
  /** Refuses `name` until `untilMs` (a later time wins over an earlier one). */
  revoke(name: string, untilMs: number): void;
  readonly size: number;
}

export function createRevocations(now: () => number = Date.now): Revocations {
  const refused = new Map<string, number>();
  return {
    until(name) {
      const until = refused.get(name);
      if (until === undefined) return undefined;
      if (until > now()) return until;
      refused.delete(name);
      return undefined;
    },
    revoke(name, untilMs) {
      if (!(untilMs > now()) || (refused.get(name) ?? 0) >= untilMs) return;
      if (!refused.has(name) && refused.size >= MAX_REVOCATIONS) {
        let soonest: string | undefined;
        let soonestAt = Number.POSITIVE_INFINITY;
        for (const [other, at] of refused) {
          if (at < soonestAt) [soonest, soonestAt] = [other, at];
        }
        if (soonest !== undefined) refused.delete(soonest);
      }
      refused.set(name, untilMs);
    },
    get size() {
      return refused.size;
    },
  };
}
