import type { TargetConnection, TargetEvents } from "../adapters/types.ts";
import type { CaptureEndpoint, Transport } from "./session-capture.ts";
import type { Capture, SessionTap } from "./sink.ts";

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

/** The connected target, as a session knows it once its adapter has opened it. */
export interface TapTarget {
  readonly protocol: string;
  readonly transport: Transport;
  /** The address actually connected (empty for a target without one, such as a socket path). */
  readonly address: string;
  readonly port: number;
  /** The host name the client asked for, when not an address. */
  readonly host?: string | undefined;
}

/** Opens a session's capture for its target, or undefined when the filter leaves it out. */
export type OpenTap = (target: TapTarget) => SessionTap | undefined;

/** The capture of one session of one client: what a session is given as its `capture` part. */
export function tapOpener(capture: Capture, sessionId: number, client: CaptureEndpoint): OpenTap {
  return (target) =>
    capture.open({
      sessionId,
      protocol: target.protocol,
      transport: target.transport,
      client,
      target: { address: target.address, port: target.port },
      targetHost:
        target.host !== undefined && target.host !== target.address ? target.host : undefined,
    });
}

/** Datagrams for an adapter whose transport keeps message boundaries, a byte stream otherwise. */
export function transportOf(adapter: object): Transport {
  return (adapter as { readonly transport?: unknown }).transport === "messages" ? "udp" : "tcp";
}
