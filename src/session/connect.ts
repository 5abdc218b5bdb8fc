import type { TargetConnection } from "../adapters/types.ts";
import { ProxyError } from "../protocol/errors.ts";

export type OpenAttempt = (address: string, signal: AbortSignal) => Promise<TargetConnection>;

/**
 * Tries each checked address in order until one opens, all within `seconds`. Bun.connect has no
 * connect timeout of its own, so an attempt still pending at the deadline (or when `abandon`
 * fires) is abandoned through its signal (the adapter destroys a socket that opens late).
 */
export async function connectWithin(
  seconds: number,
  addresses: readonly string[],
  open: OpenAttempt,
  abandon?: AbortSignal,
): Promise<TargetConnection> {
  const controller = new AbortController();
  abandon?.addEventListener("abort", () => controller.abort(), { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new ProxyError("connect_timeout", `target did not accept within ${seconds} s`));
    }, seconds * 1000);
  });
  const attempts = (async () => {
    let lastError: unknown;
    for (const address of addresses) {
      if (controller.signal.aborted) break;
      try {
        return await open(address, controller.signal);
      } catch (error) {
        lastError = error;
      }
    }
    // Built only on failure: an Error per successful session costs a stack capture.
    throw lastError ?? new ProxyError("connect_failed", "no address to connect to");
  })();
  // The losing side of the race must not surface as an unhandled rejection.
  attempts.catch(() => {});
  try {
    return await Promise.race([attempts, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
