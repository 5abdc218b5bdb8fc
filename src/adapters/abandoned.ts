import { ProxyError } from "../protocol/errors.ts";

/**
 * A target that opened after its session gave up on it (connect timeout, client gone): closed at
 * once, its events silenced (`finished`), and the open fails.
 */
export function closeIfAbandoned(
  signal: AbortSignal,
  state: { finished: boolean },
  close: () => void,
): void {
  if (!signal.aborted) return;
  state.finished = true;
  close();
  throw new ProxyError("connect_failed", "connection opened after it was abandoned");
}

/** A connect given up before it opened. */
export const connectAbandoned = (): ProxyError =>
  new ProxyError("connect_failed", "connect abandoned");
