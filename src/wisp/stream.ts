import type {
  NetworkLocation,
  OpenRequest,
  PathLocation,
  ProtocolAdapter,
  TargetConnection,
  TargetEvents,
} from "../adapters/types.ts";
import { CloseCode } from "../protocol/constants.ts";
import type { ProxyError } from "../protocol/errors.ts";
import type { SessionClient } from "../session/client.ts";
import type { StatusReporter } from "../session/status.ts";
import { closeReasonFor, WispClose } from "./close-reason.ts";
import { type CreditLimits, StreamCredit } from "./credit.ts";
import { encodeClose, encodeContinue, encodeData, type StreamKind } from "./packet.ts";

/** What a stream needs of its connection: the shared WebSocket and the stream table. */
export interface StreamLink {
  /** Bun's send status: bytes sent, or -1 when queued behind backpressure. */
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
}

/** What a stream's session does for it; Socket2Web's Session is one. */
export interface StreamSession {
  start(): void;
  message(data: Uint8Array): void;
  clientDrained(): void;
  clientClosed(code: number): void;
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
  private targetPaused = false;
  /**
   * Bytes received from the client that the target has not taken, counted here rather than asked
   * of the session because they stay in memory after the client side ends, while they flush.
   */
  private heldBytes = 0;
  /** The session has started opening the target: a flush after the client's end may follow. */
  private opening = false;

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
    failed: (error: ProxyError) => this.sendClose(closeReasonFor(error)),
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

  /**
   * The adapter as this stream's session sees it: the same adapter, whose events also tell the
   * stream when the target took bytes (credit may be due) and whose connection says when it is
   * paused.
   */
  observe<Target>(adapter: ProtocolAdapter<Target>): ProtocolAdapter<Target> {
    // Either kind of adapter opens the same way here; only its request's location differs.
    const open = adapter.open.bind(adapter) as (
      request: OpenRequest<Target, NetworkLocation | PathLocation>,
      events: TargetEvents,
    ) => Promise<TargetConnection>;
    return {
      ...adapter,
      open: async (
        request: OpenRequest<Target, NetworkLocation | PathLocation>,
        events: TargetEvents,
      ) => {
        if (!this.opening) {
          this.opening = true;
          // The session gave up on the target: whatever it held for it is dropped.
          request.signal.addEventListener("abort", () => this.release(this.heldBytes), {
            once: true,
          });
        }
        const connection = await open(request, {
          ...events,
          drain: () => {
            events.drain();
            this.afterTargetWrite();
          },
          // The session drops what it held for a target that ended or failed.
          end: () => {
            events.end();
            this.release(this.heldBytes);
          },
          error: (error) => {
            events.error(error);
            this.release(this.heldBytes);
          },
        });
        return this.observed(connection);
      },
    } as ProtocolAdapter<Target>;
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
    if (this.kind === "tcp" && !this.credit.received(payload.byteLength)) {
      this.link.violated(this, "DATA beyond the credit of its last CONTINUE");
      return;
    }
    this.heldBytes += payload.byteLength;
    this.reportHeld();
    this.session.message(payload);
    this.afterTargetWrite();
  }

  /** The client closed the stream (or the WebSocket is gone): flush what it sent, then end. */
  clientClosed(reason: number, code: number = CloseCode.normal): void {
    if (this.gone) return;
    this.gone = true;
    this.closeReason ??= reason;
    this.finish();
    this.session?.clientClosed(code);
  }

  /** Ends the stream at once with `reason` to the client (protocol errors). */
  reset(reason: number): void {
    if (this.gone) return;
    this.sendClose(reason);
    this.finish();
    this.session?.clientClosed(CloseCode.normal);
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
    this.finish();
    this.session?.clientClosed(code);
  }

  private observed(connection: TargetConnection): TargetConnection {
    return {
      // Fields a transport may declare (a largest message size) stay; the methods are delegated.
      ...connection,
      write: (chunk) => {
        let written: number;
        try {
          written = connection.write(chunk);
        } catch (error) {
          // A datagram the kernel refused: the relay counts it lost and moves on.
          this.release(chunk.byteLength);
          throw error;
        }
        if (written > 0) this.release(written);
        return written;
      },
      pause: () => {
        this.targetPaused = true;
        connection.pause();
      },
      resume: () => {
        this.targetPaused = false;
        connection.resume();
      },
      end: () => {
        this.release(this.heldBytes);
        connection.end();
      },
      destroy: () => {
        this.release(this.heldBytes);
        connection.destroy();
      },
    };
  }

  /** After the target took bytes: count the packets it has, and grant credit if due. */
  private afterTargetWrite(): void {
    if (this.kind !== "tcp") return;
    this.credit.settle(this.pendingToTarget);
    if (this.blocked || this.gone) return;
    const grant = this.credit.grant();
    if (grant !== undefined) this.link.send(encodeContinue(this.id, grant));
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
    // Before any open the session is still checking the target and may yet fail without telling
    // this stream: nothing it holds is counted from here (bounded by the stream's own bound).
    if (!this.opening) this.heldBytes = 0;
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
