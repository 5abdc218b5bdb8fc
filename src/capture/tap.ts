import type { TargetConnection, TargetEvents } from "../adapters/types.ts";
import type { SessionTap } from "./sink.ts";

/**
 * Puts a session's capture tap on the target side, where the bytes really move: what the target
 * accepted from the client (a short write is captured as far as it went; the relay writes the
 * rest later) and what the target sent. So a capture never shows bytes that did not flow.
 */
export function tapConnection(connection: TargetConnection, tap: SessionTap): TargetConnection {
  return {
    write(chunk) {
      const written = connection.write(chunk);
      if (written > 0) tap.clientBytes(chunk.subarray(0, written));
      return written;
    },
    pause: () => connection.pause(),
    resume: () => connection.resume(),
    end: () => connection.end(),
    destroy: () => connection.destroy(),
  };
}

export function tapEvents(events: TargetEvents, tap: () => SessionTap | undefined): TargetEvents {
  return {
    data(chunk) {
      tap()?.targetBytes(chunk);
      events.data(chunk);
    },
    drain: () => events.drain(),
    end: () => events.end(),
    error: (error) => events.error(error),
  };
}
