import type { Logger } from "../log/logger.ts";
import { CloseCode, CloseReason } from "../protocol/constants.ts";

interface Closable {
  readonly data: { readonly id: number };
  close(code: number, reason: string): void;
}

/**
 * Wraps a WebSocket handler so that a bug in one session closes that session (1011) instead of
 * the process: Bun ends the whole server on an exception thrown by a websocket handler.
 */
export function guarded<W extends Closable, A extends unknown[]>(
  logger: Logger,
  handler: (ws: W, ...args: A) => void,
): (ws: W, ...args: A) => void {
  return (ws, ...args) => {
    try {
      handler(ws, ...args);
    } catch (error) {
      logger.error(`session ${ws.data.id}: internal error, closing it with 1011:`, error);
      try {
        ws.close(CloseCode.internalError, CloseReason.internalError);
      } catch {
        // Already closed: nothing more to release here.
      }
    }
  };
}
