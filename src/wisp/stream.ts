import type { Refusal } from "../admission/refusal.ts";
import type { ClosedBy } from "../log/closed-by.ts";
import { CloseCode } from "../protocol/constants.ts";
import { WispClose } from "../protocol/wisp-close.ts";
import type { SessionClient } from "../session/client.ts";
import type { SessionHooks } from "../session/hooks.ts";
import type { StatusReporter } from "../session/status.ts";
import { type CreditLimits, StreamCredit } from "./credit.ts";
import { encodeClose, encodeContinue, encodeData, type StreamKind } from "./packet.ts";

/** What a stream needs of its connection: the shared WebSocket and the stream table. */
export interface StreamLink {
  /** Bun's send status: bytes sent, or -1 when queued behind backpressure. */
  send(packet: Uint8Array): number;
  bufferedAmount(): number;
  /** The stream's client side has ended: it leaves the table (its session may still flush). */
  finished(stream: WispStream): void;
  /** The stream's held packets went beyond what the client's credit allows, or back within it. */
  overrun(stream: WispStream, over: boolean): void;
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
export class WispStream implements SessionClient {
  /** The CLOSE reason sent or received; undefined while the stream is live. */
  closeReason: number | undefined;
  readonly credit: StreamCredit;
  private session: StreamSession | undefined;
  /** Set once a CLOSE went either way: nothing more goes to the client. */
  private gone = false;
  /** The relay asked to stop reading the client: no new credit until it resumes. */
  private blocked = false;
  private overrunReported = false;
  private targetPaused = false;

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

  /** How the session reports its outcome: nothing on success, CLOSE with the reason on failure. */
  readonly status: StatusReporter = {
    connected: () => {},
    failed: (refusal: Refusal) => this.sendClose(refusal.wispReason),
  };

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
    targetDrained: () => this.afterTargetWrite(),
    targetPaused: (paused) => {
      this.targetPaused = paused;
    },
  };

  /** Starts the session that serves this stream. */
  start(session: StreamSession): void {
    this.session = session;
    session.start();
  }

  /** A DATA packet from the client. */
  data(payload: Uint8Array): void {
    if (this.gone || !this.session) return;
    // UDP has no CONTINUE: each datagram goes out or is dropped as UDP would.
    if (this.kind === "tcp") this.credit.received(payload.byteLength);
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
    this.link.finished(this);
    this.session?.clientClosed(code, "", by);
  }

  /** Ends the stream at once with `reason` to the client (protocol errors). */
  reset(reason: number): void {
    if (this.gone) return;
    this.sendClose(reason);
    this.link.finished(this);
    this.session?.clientClosed(CloseCode.normal, "", "server");
  }

  // The session's view of its client.

  sendText(): void {
    // Wisp has no status messages: the status reporter answers with CLOSE instead.
  }

  sendBinary(chunk: Uint8Array): number {
    return this.gone ? chunk.byteLength : this.link.send(encodeData(this.id, chunk));
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
    this.link.finished(this);
    this.session?.clientClosed(code);
  }

  /** After the target took bytes: count the packets it has, and grant credit if due. */
  private afterTargetWrite(): void {
    if (this.kind !== "tcp") return;
    this.credit.settle(this.pendingToTarget);
    const over = this.credit.overrun && !this.gone;
    if (over !== this.overrunReported) {
      this.overrunReported = over;
      this.link.overrun(this, over);
    }
    if (this.blocked || this.gone) return;
    const grant = this.credit.grant();
    if (grant !== undefined) this.link.send(encodeContinue(this.id, grant));
  }

  private sendClose(reason: number): void {
    if (this.gone) return;
    this.gone = true;
    this.closeReason ??= reason;
    if (this.overrunReported) {
      this.overrunReported = false;
      this.link.overrun(this, false);
    }
    this.link.send(encodeClose(this.id, reason));
  }
}
