import type { Socket } from "bun";
import { formatHostPort } from "../../net/host-port.ts";
import type { Connection } from "../index.ts";
import type { ProxyEndpointOptions } from "./client-options.ts";
import { connectThroughProxy, sessionUrl, type WebSocketFactory } from "./client-socket.ts";
import { closeWhenQuiet } from "./linger.ts";
import { explainFailure } from "./refusal.ts";

/** What a bridge needs of its local socket (a forward's socket, or a socks client's after its handshake). */
export type LocalSocket = Pick<
  Socket<unknown>,
  "pause" | "resume" | "write" | "end" | "setNoDelay" | "remoteAddress" | "remotePort"
>;

/** Answers a local proxy protocol owes its client once the session's outcome is known (`socks`). */
export interface BridgeReply {
  connected(): Uint8Array;
  failed(error: unknown): Uint8Array;
}

export interface BridgeContext {
  options: ProxyEndpointOptions;
  reply?: BridgeReply;
  webSocket: WebSocketFactory;
  /** The session's one log line. */
  report(level: "info" | "warn", line: string): void;
}

/**
 * One accepted local TCP connection and its WebSocket session. Flow control both ways:
 * the local socket is paused while the WebSocket's send buffer is full, and the
 * connection's readable is read only as fast as the local socket takes the bytes
 * (Bun's WebSocket then stops reading, and the server stops reading from the target).
 */
export class TcpBridge {
  private connection: Connection | undefined;
  private writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  /** Local bytes that arrived before the connection was ready. */
  private early: Uint8Array[] = [];
  /** The local socket is paused until the writer has room again. */
  private waitingForRoom = false;
  private localEnded = false;
  private localClosed = false;
  private wakeDrain: (() => void) | undefined;
  private readonly startedAt = Date.now();
  private readonly label: string;

  constructor(
    private readonly socket: LocalSocket,
    private readonly context: BridgeContext,
  ) {
    this.label = `${formatHostPort(socket.remoteAddress, socket.remotePort ?? 0)} → ${context.options.targetLabel}`;
  }

  start(): void {
    this.socket.setNoDelay(true);
    // Nothing can be sent before the server's status, so hold the local side meanwhile.
    this.socket.pause();
    const { options, webSocket } = this.context;
    connectThroughProxy(options, webSocket).then(
      (connection) => this.onConnected(connection),
      (error: unknown) => this.onFailed(error),
    );
  }

  /** Closes the session from outside (shutdown). */
  stop(): void {
    if (this.connection) this.connection.close(1001, "client shutting down");
    else this.socket.end();
  }

  onData(chunk: Uint8Array): void {
    if (this.writer) this.send(chunk);
    else this.early.push(chunk);
  }

  onDrain(): void {
    this.notifyDrain();
  }

  /** The local peer sent FIN: what it sent goes out, then the session closes once the target is quiet. */
  onEnd(): void {
    this.localEnded = true;
    if (this.connection) this.finishSending(this.connection);
  }

  onClose(): void {
    this.localClosed = true;
    this.notifyDrain();
    if (this.connection && !this.localEnded) {
      this.localEnded = true;
      const connection = this.connection;
      // Nobody is left to read replies: close as soon as what was written has gone out.
      void this.flushed().then(() => connection.close(1000, "client closed"));
    }
  }

  private onConnected(connection: Connection): void {
    this.connection = connection;
    if (this.localClosed) {
      connection.close(1000, "client closed");
    } else {
      const answer = this.context.reply?.connected();
      if (answer && answer.byteLength > 0) this.socket.write(answer);
      this.writer = connection.writable.getWriter();
      for (const chunk of this.early.splice(0)) this.send(chunk);
      if (!this.waitingForRoom) this.resume();
      if (this.localEnded) this.finishSending(connection);
    }
    void this.pumpToLocal(connection);
    void connection.closed.then((info) => {
      const level = info.code === 1000 || info.code === 1001 ? "info" : "warn";
      const why = info.reason ? `${info.code} ${info.reason}` : String(info.code);
      const seconds = ((Date.now() - this.startedAt) / 1000).toFixed(2);
      this.context.report(
        level,
        `${this.label}: closed ${why}, ${connection.bytesSent} B sent, ${connection.bytesReceived} B received, ${seconds} s`,
      );
    });
  }

  private onFailed(error: unknown): void {
    const answer = this.localClosed ? undefined : this.context.reply?.failed(error);
    if (answer && answer.byteLength > 0) this.socket.write(answer);
    this.socket.end();
    const { options } = this.context;
    // A server that stopped answering since start-up gets the same plain explanation.
    void explainFailure(options, sessionUrl(options), error).then((text) =>
      this.context.report("warn", `${this.label}: ${text}`),
    );
  }

  private send(chunk: Uint8Array): void {
    const writer = this.writer as WritableStreamDefaultWriter<Uint8Array>;
    // A failed write shows as the connection's close, handled in pumpToLocal.
    writer.write(chunk).catch(() => {});
    if (writer.desiredSize !== null && writer.desiredSize <= 0 && !this.waitingForRoom) {
      this.waitingForRoom = true;
      this.socket.pause();
      writer.ready.then(
        () => {
          this.waitingForRoom = false;
          this.resume();
        },
        () => {},
      );
    }
  }

  private resume(): void {
    if (!this.localClosed) this.socket.resume();
  }

  private finishSending(connection: Connection): void {
    void this.flushed().then(() => closeWhenQuiet(connection, this.context.options.lingerMs));
  }

  /** Resolves once every byte written so far has left the WebSocket's buffer (or it closed). */
  private async flushed(): Promise<void> {
    const writer = this.writer;
    if (!writer) return;
    await writer.ready.catch(() => {});
    await writer.close().catch(() => {});
  }

  private notifyDrain(): void {
    const wake = this.wakeDrain;
    this.wakeDrain = undefined;
    wake?.();
  }

  /** Copies the connection's readable into the local socket, keeping partial writes for the next drain. */
  private async pumpToLocal(connection: Connection): Promise<void> {
    const reader = connection.readable.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        let rest = value;
        while (rest.byteLength > 0) {
          if (this.localClosed) {
            connection.close(1000, "client closed");
            await reader.cancel().catch(() => {});
            return;
          }
          const written = this.socket.write(rest);
          rest = rest.subarray(Math.max(written, 0));
          if (rest.byteLength > 0) {
            await new Promise<void>((resolve) => {
              this.wakeDrain = resolve;
            });
          }
        }
      }
    } catch {
      // The connection failed; its close code is in the session's log line.
    }
    // Every byte the server sent is in the kernel now: FIN follows it.
    if (!this.localClosed) this.socket.end();
  }
}
