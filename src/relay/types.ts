import type { TargetConnection } from "../adapters/types.ts";
import type { SessionBandwidth } from "../limits/bandwidth.ts";

/** The client's end of the relay: a WebSocket (or a stream multiplexed on one) with backpressure. */
export interface ClientSide {
  /** Bun's send status: bytes sent, -1 when queued behind backpressure (0, dropped, must not happen). */
  send(chunk: Uint8Array): number;
  bufferedAmount(): number;
  pause(): void;
  resume(): void;
  /** Ends the session from the relay's side (a message the target's transport cannot carry). */
  close(code: number, reason: string): void;
}

export interface FlowLimits {
  /** Bytes waiting for one side above which the other side stops being read. */
  readonly highWater: number;
  /** Reading resumes once the backlog falls below this. */
  readonly lowWater: number;
}

/**
 * Moves data both ways between a client and a target with flow control. One implementation per
 * transport kind; the session uses this interface and does not know which.
 */
export interface TargetRelay {
  readonly bytesFromClient: number;
  readonly bytesFromTarget: number;
  /** Messages lost where the transport itself loses them (datagrams); always 0 for streams. */
  readonly dropped: { readonly toTarget: number; readonly toClient: number };
  /** Date.now() of the last byte moved in either direction; kept only when `trackActivity`. */
  readonly lastActivity: number;
  /** Bytes received from the client that the target has not taken yet. */
  readonly pendingToTarget: number;
  fromClient(chunk: Uint8Array): void;
  /**
   * A chunk (or message) from the target. Before `attach` it is held, not sent: the client must see
   * the `connected` status first.
   */
  fromTarget(chunk: Uint8Array): void;
  /** The target is open and the client told so: held data goes out, then reading starts. */
  attach(target: TargetConnection): void;
  targetDrained(): void;
  clientDrained(): void;
  /** The client is gone: the target gets what was already received, then its end of stream. */
  endTargetAfterFlush(): void;
  /** Drops whatever is still queued, for a relay that is being torn down. */
  discard(): void;
  /**
   * From now on each direction is read no faster than its limits allow: the side that is ahead
   * stops being read until the limits are paid, its bytes are never dropped. A datagram target
   * cannot be paused, so its messages towards the client are not slowed.
   */
  limit(bandwidth: SessionBandwidth): void;
  /** A shutdown: neither side is read again; what is queued still flushes. */
  freeze(): void;
}

/** What a relay tells the session about the target side as it happens. */
export interface RelayObserver {
  /** Bytes (or a message) the target took; absent when nobody watches them. */
  readonly toTarget?: ((chunk: Uint8Array) => void) | undefined;
  /** Reading the target stopped (true) or started again (false) for the client's backlog. */
  readonly targetPaused?: ((paused: boolean) => void) | undefined;
  /** The client was gone and the target has had every byte: it was ended. */
  targetEnded(): void;
}

export interface RelayOptions {
  readonly client: ClientSide;
  readonly observer?: RelayObserver | undefined;
  readonly limits: FlowLimits;
  /** Read the clock per chunk only when an idle timeout needs it. */
  readonly trackActivity?: boolean;
}
