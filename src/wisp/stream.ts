import type { Refusal } from "../admission/refusal.ts";
import { slowestRate } from "../limits/bandwidth.ts";
import type { ClosedBy } from "../log/closed-by.ts";
import { CloseCode } from "../protocol/constants.ts";
import { WispClose } from "../protocol/wisp-close.ts";
import type { SessionClient } from "../session/client.ts";
import type { SessionHooks } from "../session/hooks.ts";
import type { StatusReporter } from "../session/status.ts";
import { type CreditLimits, StreamCredit } from "./credit.ts";
import { encodeClose, encodeContinue, type StreamKind, sharedEncoder } from "./packet.ts";

/**
 * The credit window of a stream under a bandwidth limit, as time at its rate: small enough that
 * the client's sends are spread out rather than sent a whole default window (1 MiB) at once, large
 * enough that a round trip of up to this long still lets the stream reach its rate.
 */
const LIMITED_WINDOW_SECONDS = 0.2;

/** What a stream needs of its connection: the shared WebSocket and the stream table. */
export interface StreamLink {
  /**
   * Bun's send status: bytes sent, or -1 when queued behind backpressure. The packet is written or
   * copied before this returns: DATA packets share one reused buffer (sharedEncoder).
   */
  send(packet: Uint8Array): number;
  bufferedAmount(): number;
  /** The stream's client side has ended: it leaves the table (its session may still flush). */
  finished(stream: WispStream): void;
  /**
   * The stream holds `bytes` for its target now (received, not yet taken); `open` is false once
   * its client side has ended and it only flushes.
   */
  held(stream: WispStream, bytes: number, open: boolean): void;
  /** The client broke the protocol on this stream (DATA beyond its credit): refuse the stream. */
  violated(stream: WispStream, why: string): void;
  /** Nothing of the stream's session is held any more (its target is closed): it stops counting. */
  released(stream: WispStream): void;
}

/** What a stream's session does for it; Socket2Web's Session is one. */
export interface StreamSession {
  start(): void;
  message(data: Uint8Array): void;
  clientDrained(): void;
  clientClosed(code: number, reason?: string, by?: ClosedBy): void;
  readonly pendingToTarget: number;
  readonly bytesFromClient: number;
  readonly bytesFromTarget: number;
}

/** How long a stream whose target took everything waits for a packet before it grants afresh. */
const STALL_MS = 50;

/** The CLOSE reason for the close code a session ends its client with. */
export function closeReasonForCode(code: number): number {
  switch (code) {
    case CloseCode.normal:
    case CloseCode.goingAway:
    case CloseCode.maxLifetime:
      return WispClose.voluntary;
    case CloseCode.idleTimeout:
      return WispClose.transferTimeout;
    case CloseCode.internalError:
      return WispClose.networkError;
    // Reloaded access rules deny the stream's target: as a CONNECT to it would be refused.
    case CloseCode.forbidden:
      return WispClose.blocked;
    // A datagram larger than the target's transport carries: the client sent what cannot be.
    case CloseCode.messageTooBig:
      return WispClose.invalid;
    default:
      return WispClose.unknown;
  }
}

/**
 * One Wisp stream: the client side of a Socket2Web session, on a WebSocket shared with other
 * streams. The session does for a stream what it does for any client (credential, resolution,
 * policy, connect timeout, relay, idle clock, log line, metrics); the stream turns what it sends
 * into DATA packets and its end into CLOSE, and counts the client's packets for CONTINUE.
 */
export class WispStream implements SessionClient, StatusReporter {
  /** The CLOSE reason sent or received; undefined while the stream is live. */
  closeReason: number | undefined;
  readonly credit: StreamCredit;
  private session: StreamSession | undefined;
  /** Set once a CLOSE went either way: nothing more goes to the client. */
  private gone = false;
  /** The relay asked to stop reading the client: no new credit until it resumes. */
  private blocked = false;
  private stallTimer: ReturnType<typeof setTimeout> | undefined;
  private targetPaused = false;
  /**
   * Bytes received from the client that the target has not taken, counted here rather than asked
   * of the session because they stay in memory after the client side ends, while they flush.
   */
  private heldBytes = 0;

  constructor(
    readonly id: number,
    readonly kind: StreamKind,
    readonly host: string,
    readonly port: number,
    private readonly link: StreamLink,
    credit: CreditLimits,
  ) {
    this.credit = new StreamCredit(credit);
  }

  /** False while the target is not being read because the client is behind. */
  get readingTarget(): boolean {
    return !this.targetPaused;
  }

  get live(): boolean {
    return !this.gone;
  }

  get pendingToTarget(): number {
    return this.session?.pendingToTarget ?? 0;
  }

  /** What the stream watches of its session: the target taking bytes (credit may be due), and being paused. */
  readonly hooks: SessionHooks = {
    toTarget: (chunk) => this.release(chunk.byteLength),
    targetDrained: () => this.afterTargetWrite(),
    targetPaused: (paused) => {
      this.targetPaused = paused;
    },
    // Credit is what a paused stream withholds, so a window far above what the limit lets through
    // in a moment would arrive as one burst after each pause: the window is sized to the rate.
    limited: ({ up }) => {
      if (up.length > 0) this.credit.aimAt(slowestRate(up) * LIMITED_WINDOW_SECONDS);
    },
    // Nothing of the session is held any more: what it had not delivered was dropped with it.
    released: () => {
      this.release(this.heldBytes);
      this.link.released(this);
    },
  };

  /** The session reached its target: Wisp has no message for that; the stream just carries data. */
  connected(): void {}

  /** The session was refused or could not connect: CLOSE with the refusal's Wisp reason. */
  failed(refusal: Refusal): void {
    this.sendClose(refusal.wispReason);
  }

  /** Starts the session that serves this stream. */
  start(session: StreamSession): void {
    this.session = session;
    session.start();
  }

  /** A DATA packet from the client. */
  data(payload: Uint8Array): void {
    if (this.gone || !this.session) return;
    // UDP has no CONTINUE: each datagram goes out or is dropped as UDP would.
    if (this.kind === "tcp") {
      if (!this.credit.received(payload.byteLength)) {
        this.link.violated(this, "DATA beyond the credit of its last CONTINUE");
        return;
      }
      this.heldBytes += payload.byteLength;
      this.reportHeld();
    }
    this.session.message(payload);
    this.afterTargetWrite();
  }

  /**
   * The client closed the stream (or the WebSocket is gone): flush what it sent, then end. `by`:
   * who ended it, the server when it closed the whole WebSocket.
   */
  clientClosed(reason: number, code: number = CloseCode.normal, by: ClosedBy = "client"): void {
    if (this.gone) return;
    this.gone = true;
    this.closeReason ??= reason;
    this.finish();
    this.session?.clientClosed(code, "", by);
  }

  /** Ends the stream at once with `reason` to the client (protocol errors). */
  reset(reason: number): void {
    if (this.gone) return;
    this.sendClose(reason);
    this.finish();
    this.session?.clientClosed(CloseCode.normal, "", "server");
  }

  // The session's view of its client.

  sendText(): void {
    // Wisp has no status messages: the status reporter answers with CLOSE instead.
  }

  sendBinary(chunk: Uint8Array): number {
    return this.gone ? chunk.byteLength : this.link.send(sharedEncoder.encode(this.id, chunk));
  }

  bufferedAmount(): number {
    return this.gone ? 0 : this.link.bufferedAmount();
  }

  pause(): void {
    this.blocked = true;
  }

  resume(): void {
    this.blocked = false;
    this.afterTargetWrite();
  }

  /** The session ends the stream (target closed or failed, idle, shutdown, a refusal). */
  close(code: number): void {
    // After a refusal the status reporter has sent the CLOSE already.
    this.sendClose(closeReasonForCode(code));
    this.finish();
    this.session?.clientClosed(code);
  }

  /** After the target took bytes: count the packets it has, and grant credit if due. */
  private afterTargetWrite(): void {
    if (this.kind !== "tcp") return;
    this.credit.settle(this.pendingToTarget);
    if (this.blocked || this.gone) return;
    const grant = this.credit.grant();
    // Before the first CONTINUE nothing can stall, so a short stream never sets the stall timer.
    if (grant !== undefined) this.link.send(encodeContinue(this.id, grant));
    else if (this.credit.held === 0 && this.credit.continued) this.watchForStall();
  }

  /**
   * Nothing held, yet no grant is due: the client may still have credit, or may have lost it to a
   * CONTINUE that replaced it (then it waits for ever; so only after a CONTINUE). If no packet
   * comes within STALL_MS, it is the latter: forget the credit it no longer has and grant afresh.
   */
  private watchForStall(): void {
    if (this.stallTimer) return;
    const before = this.credit.receivedCount;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      if (this.gone || this.blocked) return;
      // Packets came meanwhile: look again after a quiet period from the last of them.
      if (this.credit.receivedCount === before) this.credit.forgetUnspent();
      this.afterTargetWrite();
    }, STALL_MS);
    this.stallTimer.unref?.();
  }

  private sendClose(reason: number): void {
    if (this.gone) return;
    this.gone = true;
    this.closeReason ??= reason;
    this.link.send(encodeClose(this.id, reason));
  }

  /** The client side has ended: the stream leaves the table; what it holds may still flush. */
  private finish(): void {
    this.link.finished(this);
    this.reportHeld();
  }

  /** The target took `bytes`, or they were dropped with it. */
  private release(bytes: number): void {
    if (bytes <= 0 || this.heldBytes === 0) return;
    this.heldBytes = Math.max(0, this.heldBytes - bytes);
    this.reportHeld();
  }

  private reportHeld(): void {
    this.link.held(this, this.heldBytes, !this.gone);
  }
}
