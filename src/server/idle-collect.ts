/**
 * Gives a burst's memory back once the server falls quiet. JavaScriptCore collects garbage when
 * JavaScript allocates, so a server that goes idle after many sessions ended keeps their garbage
 * in its RSS until the next burst (measured: 100–110 MiB after 5,000 sessions closed, 76–83 MiB
 * after one full collection; docs/benchmarks/ANALYSIS.md). Once `threshold` sessions have ended
 * and no session started or ended for a whole check, one full collection runs.
 */
export interface IdleCollector {
  /** A session started. */
  started(): void;
  /** A session ended. */
  ended(): void;
  /** One check: collects when due. The interval calls it; tests call it directly. */
  check(): void;
  stop(): void;
}

export interface IdleCollectorOptions {
  /** Sessions ended since the last collection before one is worth its pause. */
  readonly threshold: number;
  /** How often to check; a collection waits for one whole quiet interval. */
  readonly intervalMs: number;
  readonly collect: () => void;
}

export const IDLE_COLLECT: Omit<IdleCollectorOptions, "collect"> = {
  threshold: 256,
  intervalMs: 250,
};

export function createIdleCollector({
  threshold,
  intervalMs,
  collect,
}: IdleCollectorOptions): IdleCollector {
  let endedSince = 0;
  let busy = false;
  const check = () => {
    if (busy) {
      busy = false;
      return;
    }
    if (endedSince < threshold) return;
    endedSince = 0;
    collect();
  };
  const timer = setInterval(check, intervalMs);
  // Never the reason the process stays up.
  timer.unref();
  return {
    started() {
      busy = true;
    },
    ended() {
      busy = true;
      endedSince++;
    },
    check,
    stop: () => clearInterval(timer),
  };
}
