import type { TargetConnection } from "../adapters/types.ts";
import { ProxyError } from "../protocol/errors.ts";

export type OpenAttempt<Where> = (
  location: Where,
  signal: AbortSignal,
) => Promise<TargetConnection>;

/**
 * Tries each checked address in order until one opens, all within `seconds`. Adapters have no
 * connect timeout of their own, so an attempt still pending at the deadline is abandoned through
 * `abort`, the session's own controller (the adapter cancels the attempt, or destroys a socket
 * that opens late). One promise and one timer per session: no race, no second controller
 * (profiled: each AbortController and listener costs microseconds per session).
 */
export function connectWithin<Where>(
  seconds: number,
  addresses: readonly Where[],
  open: OpenAttempt<Where>,
  abort: AbortController,
): Promise<TargetConnection> {
  return new Promise<TargetConnection>((resolve, reject) => {
    let settled = false;
    let lastError: unknown;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      abort.abort();
      reject(new ProxyError("connect_timeout", `target did not accept within ${seconds} s`));
    }, seconds * 1000);
    const attempt = (index: number): void => {
      if (settled) return;
      const address = addresses[index];
      if (address === undefined || abort.signal.aborted) {
        settled = true;
        clearTimeout(timer);
        // Built only on failure: an Error per successful session costs a stack capture.
        reject(lastError ?? new ProxyError("connect_failed", "no address to connect to"));
        return;
      }
      open(address, abort.signal).then(
        (connection) => {
          if (settled) {
            connection.destroy();
            return;
          }
          settled = true;
          clearTimeout(timer);
          resolve(connection);
        },
        (error: unknown) => {
          lastError = error;
          attempt(index + 1);
        },
      );
    };
    attempt(0);
  });
}
