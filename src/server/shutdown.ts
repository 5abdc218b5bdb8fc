/**
 * A server process exits this long after a shutdown signal even when a flush hangs: the protocol
 * promises an exit within 10 s of the signal.
 */
export const SHUTDOWN_DEADLINE_MS = 9000;

/** A supervisor kills a worker still running this long after the signal: just past its deadline. */
export const WORKER_KILL_DEADLINE_MS = SHUTDOWN_DEADLINE_MS + 500;
