import type { TargetConnection, TargetEvents } from "../adapters/types.ts";
import type { ProxyError } from "../protocol/errors.ts";
import { type ClientSide, type FlowLimits, Relay } from "../relay/relay.ts";
import { closeReasonFor, WispClose } from "./close-reason.ts";
import { StreamCredit } from "./credit.ts";
import { encodeClose, encodeContinue, encodeData, type StreamKind } from "./packet.ts";

/** What a stream needs of its connection: the shared WebSocket and the stream table. */
export interface StreamLink {
  /** Bun's send status: bytes sent, or -1 when queued behind backpressure. */
  send(packet: Uint8Array): number;
  bufferedAmount(): number;
  readonly flow: FlowLimits;
  /** The stream is over on both sides (its log line and metrics are due). */
  finished(stream: WispStream): void;
  /** The stream's held packets went beyond what the client's credit allows, or back within it. */
  overrun(stream: WispStream, over: boolean): void;
  /** Whether the connection needs a clock per chunk (idle timeout). */
  readonly trackActivity: boolean;
}

/** How long a closed stream's last client bytes may take to reach a target that reads slowly. */
const TARGET_FLUSH_GRACE_MS = 30_000;

export type StreamPhase = "connecting" | "open" | "closed";

/**
 * One Wisp stream: a target connection relayed to the client through DATA packets on a WebSocket
 * shared with other streams. The bytes move through the same Relay as a Socket2Web session; the
 * stream is the relay's client side, with flow control in packets (CONTINUE) towards the target and
 * the WebSocket's buffered amount towards the client.
 */
export class WispStream {
  readonly startedAt = performance.now();
  phase: StreamPhase = "connecting";
  /** The CLOSE reason sent or received; undefined while the stream is live. */
  closeReason: number | undefined;
  /** Set once the client closed the stream or the WebSocket: nothing more is sent to it. */
  clientGone = false;
  readonly relay: Relay;
  readonly credit: StreamCredit;
  /** The relay asked to stop reading the client: no new credit until it resumes. */
  private blocked = false;
  private target: TargetConnection | undefined;
  private targetDone = false;
  private overrunReported = false;
  private targetPaused = false;
  /** The target gets its end of stream once the relay has written what the client sent. */
  private ending = false;
  private flushGuard: ReturnType<typeof setTimeout> | undefined;
  readonly abort = new AbortController();

  constructor(
    readonly id: number,
    readonly kind: StreamKind,
    readonly host: string,
    readonly port: number,
    private readonly link: StreamLink,
    bufferPackets: number,
  ) {
    this.credit = new StreamCredit(bufferPackets);
    this.relay = new Relay(this.clientSide(), link.flow, link.trackActivity);
  }

  /** Events for the adapter: target bytes become DATA packets, its end a CLOSE. */
  readonly events: TargetEvents = {
    data: (chunk) => this.relay.fromTarget(chunk),
    drain: () => {
      this.relay.targetDrained();
      this.afterTargetWrite();
      if (this.ending && this.relay.pendingToTarget === 0) this.finish();
    },
    end: () => this.targetEnded(WispClose.voluntary),
    error: () => this.targetEnded(WispClose.networkError),
  };

  /** False while the target is not being read because the client is behind. */
  get readingTarget(): boolean {
    return !this.targetPaused;
  }

  /** A DATA packet from the client. */
  data(payload: Uint8Array): void {
    if (this.clientGone || this.phase === "closed") return;
    // UDP has no CONTINUE: each datagram goes out or is dropped as UDP would.
    if (this.kind === "tcp") this.credit.received(payload.byteLength);
    this.relay.fromClient(payload);
    this.afterTargetWrite();
  }

  /** The target is open: what the client sent meanwhile goes first, then reading starts. */
  opened(connection: TargetConnection): void {
    if (this.phase === "closed") {
      connection.destroy();
      return;
    }
    // Seen through, so that whether the target is being read can be told (for tests, metrics).
    this.target = {
      write: (chunk) => connection.write(chunk),
      pause: () => {
        this.targetPaused = true;
        connection.pause();
      },
      resume: () => {
        this.targetPaused = false;
        connection.resume();
      },
      end: () => connection.end(),
      destroy: () => connection.destroy(),
    };
    this.phase = "open";
    this.relay.attach(this.target);
    this.afterTargetWrite();
    if (this.clientGone) this.endTarget();
  }

  /** The target could not be opened: the client gets CLOSE with the matching reason. */
  failed(error: ProxyError): void {
    if (this.phase === "closed") return;
    this.sendClose(closeReasonFor(error));
    this.finish();
  }

  /** The client sent CLOSE (or the WebSocket is gone): flush what it sent, then end the target. */
  clientClosed(reason: number): void {
    if (this.clientGone) return;
    this.clientGone = true;
    this.closeReason ??= reason;
    if (this.phase === "open") this.endTarget();
    // Connecting: `opened` ends the target once it is open, `failed` finishes the stream.
  }

  /** Ends the stream at once, both sides, with `reason` to the client (protocol errors, shutdown). */
  reset(reason: number): void {
    if (this.phase === "closed") return;
    this.sendClose(reason);
    this.abort.abort();
    this.target?.destroy();
    this.finish();
  }

  /** The WebSocket drained: targets paused for the client may resume. */
  clientDrained(): void {
    this.relay.clientDrained();
  }

  get bytesFromClient(): number {
    return this.relay.bytesFromClient;
  }

  get bytesFromTarget(): number {
    return this.relay.bytesFromTarget;
  }

  private targetEnded(reason: number): void {
    if (this.targetDone) return;
    this.targetDone = true;
    this.target = undefined;
    this.relay.discard();
    // Every byte read from the target is already queued on the WebSocket, ahead of this CLOSE.
    this.sendClose(reason);
    this.finish();
  }

  private endTarget(): void {
    const target = this.target;
    if (!target || this.ending) return;
    this.ending = true;
    // Once the queue is empty the relay ends the target itself, and the adapter goes quiet.
    this.relay.endTargetAfterFlush();
    if (this.relay.pendingToTarget === 0) {
      this.finish();
      return;
    }
    this.flushGuard = setTimeout(() => {
      target.destroy();
      this.finish();
    }, TARGET_FLUSH_GRACE_MS);
    this.flushGuard.unref();
  }

  /** After the target took bytes: count the packets it has, and grant credit if due. */
  private afterTargetWrite(): void {
    this.credit.settle(this.relay.pendingToTarget);
    const over = this.credit.overrun;
    if (over !== this.overrunReported) {
      this.overrunReported = over;
      this.link.overrun(this, over);
    }
    if (this.blocked || this.clientGone || this.kind !== "tcp") return;
    const grant = this.credit.grant();
    if (grant !== undefined) this.link.send(encodeContinue(this.id, grant));
  }

  private sendClose(reason: number): void {
    this.closeReason ??= reason;
    if (this.clientGone) return;
    this.clientGone = true;
    this.link.send(encodeClose(this.id, reason));
  }

  private finish(): void {
    if (this.phase === "closed") return;
    this.phase = "closed";
    clearTimeout(this.flushGuard);
    if (this.overrunReported) this.link.overrun(this, false);
    this.link.finished(this);
  }

  private clientSide(): ClientSide {
    return {
      // After the client closed the stream, what the target still sends has nowhere to go.
      send: (chunk) =>
        this.clientGone ? chunk.byteLength : this.link.send(encodeData(this.id, chunk)),
      bufferedAmount: () => this.link.bufferedAmount(),
      pause: () => {
        this.blocked = true;
      },
      resume: () => {
        this.blocked = false;
        this.afterTargetWrite();
      },
    };
  }
}
