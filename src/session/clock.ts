/** A running clock; stopping it twice does nothing. */
export interface Clock {
  stop(): void;
}

/** A clock that never runs: for a limit of 0. */
export const STOPPED: Clock = { stop() {} };

/**
 * Calls `idle` once nothing has moved for `idleMs` (`lastActivity` is a Date.now() time), checking
 * only when the quiet period could have run out: one timer, re-armed for the time left.
 */
export function idleClock(idleMs: number, lastActivity: () => number, idle: () => void): Clock {
  if (idleMs <= 0) return STOPPED;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const check = () => {
    if (stopped) return;
    const quietFor = Date.now() - lastActivity();
    if (quietFor >= idleMs) {
      stopped = true;
      idle();
    } else timer = setTimeout(check, idleMs - quietFor);
  };
  timer = setTimeout(check, idleMs);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** Calls `expired` after `seconds`; 0 never. */
export function lifetimeClock(seconds: number, expired: () => void): Clock {
  if (seconds <= 0) return STOPPED;
  const timer = setTimeout(expired, seconds * 1000);
  return { stop: () => clearTimeout(timer) };
}
