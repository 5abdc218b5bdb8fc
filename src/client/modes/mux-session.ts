import { formatHostPort } from "../../net/host-port.ts";
import { WispClose } from "../../protocol/wisp-close.ts";
import type { LocalSession } from "./local-proxy-connection.ts";
import { type LocalRequest, SocksReply, successReply } from "./local-proxy-handshake.ts";
import { failureOfWispClose, failureReply, type LocalFailure } from "./local-proxy-refusal.ts";
import type { LocalSocket } from "./tcp-bridge.ts";
import type { MuxStream, WispMux } from "./wisp-mux.ts";

/**
 * Bytes from the target a local client may leave unread before its stream is closed. Wisp has no
 * credit towards the client and Bun's WebSocket client cannot stop reading, so a local client
 * slower than its target is bounded here: per stream, and for all streams of the process.
 */
export const MAX_UNREAD_BYTES = 32 * 1024 * 1024;
export const MAX_UNREAD_TOTAL_BYTES = 256 * 1024 * 1024;

/** Unread bytes of every stream, for the process-wide bound. */
export interface UnreadTotal {
  bytes: number;
}

export interface MuxSessionContext {
  readonly mux: WispMux;
  /** Quiet time after the local side ended before the stream is closed; 0 waits for the target. */
  readonly lingerMs: number;
  readonly unread: UnreadTotal;
  report(level: "info" | "warn", line: string): void;
}

/**
 * One local connection carried as a Wisp stream. Wisp 1 has no open confirmation, so the local
 * client is told "connected" once the CONNECT is on its way; a refusal that follows closes the
 * local connection and is logged with the server's reason.
 */
export class MuxSession implements LocalSession {
  private stream: MuxStream | undefined;
  private unread: Uint8Array[] = [];
  private unreadBytes = 0;
  private replied = false;
  private remoteDone = false;
  private localClosed = false;
  private lingerTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly startedAt = Date.now();
  private readonly label: string;

  constructor(
    private readonly socket: LocalSocket,
    private readonly request: LocalRequest,
    private readonly context: MuxSessionContext,
  ) {
    const host = request.host.includes(":") ? `[${request.host}]` : request.host;
    this.label = `${formatHostPort(socket.remoteAddress, socket.remotePort ?? 0)} → ${host}:${request.port}`;
  }

  start(): void {
    this.socket.setNoDelay(true);
    this.socket.pause();
    this.stream = this.context.mux.open(this.request.host, this.request.port, {
      opened: () => this.opened(),
      data: (chunk) => this.fromTarget(chunk),
      writable: () => this.resume(),
      closed: (reason, why) => this.closed(reason, why),
    });
  }

  onData(chunk: Uint8Array): void {
    if (this.stream && !this.stream.send(chunk)) this.socket.pause();
  }

  onDrain(): void {
    this.writeUnread();
  }

  onEnd(): void {
    if (this.context.lingerMs === 0) return;
    this.armLinger();
  }

  onClose(): void {
    this.localClosed = true;
    this.dropUnread();
    clearTimeout(this.lingerTimer);
    this.stream?.close();
  }

  stop(): void {
    this.stream?.close();
    this.socket.end();
  }

  private opened(): void {
    this.replied = true;
    const answer = successReply(this.request.protocol);
    if (answer.byteLength > 0) this.socket.write(answer);
    const stream = this.stream as MuxStream;
    if (this.request.early.byteLength > 0 && !stream.send(this.request.early)) return;
    this.resume();
  }

  private resume(): void {
    if (!this.localClosed) this.socket.resume();
  }

  private fromTarget(chunk: Uint8Array): void {
    if (this.localClosed) return;
    if (this.lingerTimer !== undefined) this.armLinger();
    if (this.unread.length === 0) {
      const written = this.socket.write(chunk);
      if (written === chunk.byteLength) return;
      chunk = chunk.subarray(Math.max(written, 0));
    }
    this.unread.push(chunk);
    this.count(chunk.byteLength);
    const total = this.context.unread.bytes;
    if (this.unreadBytes > MAX_UNREAD_BYTES || total > MAX_UNREAD_TOTAL_BYTES) {
      this.context.report(
        "warn",
        `${this.label}: the local client left ${this.unreadBytes} B unread (bounds: ${MAX_UNREAD_BYTES} B a stream, ${MAX_UNREAD_TOTAL_BYTES} B in all); closing`,
      );
      this.stream?.close();
      this.dropUnread();
      this.socket.end();
    }
  }

  private writeUnread(): void {
    while (this.unread.length > 0) {
      const chunk = this.unread[0] as Uint8Array;
      const written = Math.max(this.socket.write(chunk), 0);
      this.count(-written);
      if (written < chunk.byteLength) {
        this.unread[0] = chunk.subarray(written);
        return;
      }
      this.unread.shift();
    }
    if (this.remoteDone) this.socket.end();
  }

  private count(bytes: number): void {
    this.unreadBytes += bytes;
    this.context.unread.bytes += bytes;
  }

  private dropUnread(): void {
    this.count(-this.unreadBytes);
    this.unread = [];
  }

  /** The local side ended: close the stream once nothing has come from the target for a while. */
  private armLinger(): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = setTimeout(() => {
      this.stream?.close();
      this.remoteDone = true;
      if (this.unread.length === 0) this.socket.end();
    }, this.context.lingerMs);
  }

  private closed(reason: number | undefined, why: string): void {
    clearTimeout(this.lingerTimer);
    this.remoteDone = true;
    const stream = this.stream as MuxStream;
    const seconds = ((Date.now() - this.startedAt) / 1000).toFixed(2);
    const counts = `${stream.bytesSent} B sent, ${stream.bytesReceived} B received, ${seconds} s`;
    const refused =
      reason !== undefined &&
      reason !== WispClose.voluntary &&
      reason !== WispClose.networkError &&
      stream.bytesReceived === 0;
    if (!this.replied) {
      // Never opened: the connection to the proxy could not be made in time.
      const failure: LocalFailure = { socks: SocksReply.generalFailure, http: 502, reason: why };
      if (!this.localClosed) this.socket.write(failureReply(this.request.protocol, failure));
      this.context.report("warn", `${this.label}: ${why}`);
    } else if (refused) {
      this.context.report("warn", `${this.label}: ${failureOfWispClose(reason).reason}`);
    } else if (reason === undefined) {
      this.context.report("warn", `${this.label}: ${why}, ${counts}`);
    } else {
      const level = reason === WispClose.voluntary ? "info" : "warn";
      this.context.report(
        level,
        `${this.label}: closed (Wisp 0x${reason.toString(16).padStart(2, "0")}), ${counts}`,
      );
    }
    if (this.localClosed) return;
    if (this.unread.length === 0) this.socket.end();
  }
}
