import type { Socket } from "bun";
import { formatHostPort } from "../../net/host-port.ts";
import {
  type LocalCredential,
  LocalHandshake,
  type LocalRequest,
} from "./local-proxy-handshake.ts";

/** What a local connection becomes once its handshake named a target. */
export interface LocalSession {
  onData(chunk: Uint8Array): void;
  onDrain(): void;
  onEnd(): void;
  onClose(): void;
  /** Closes from outside (shutdown). */
  stop(): void;
}

/** Opens the proxied session for a request; the session answers the client (success or refusal). */
export type SessionOpener = (
  socket: Socket<LocalConnection>,
  request: LocalRequest,
) => LocalSession;

export interface LocalConnectionContext {
  readonly credential: LocalCredential | undefined;
  readonly handshakeTimeoutMs: number;
  readonly open: SessionOpener;
  report(level: "info" | "warn", line: string): void;
}

/**
 * One accepted local connection: its SOCKS5 or HTTP handshake, read within the handshake timeout,
 * then the session its request opens. Bytes read before the session exists are bounded by the
 * handshake's own bound; once the request is complete the socket is paused until the session
 * takes over.
 */
export class LocalConnection {
  private readonly handshake: LocalHandshake;
  private session: LocalSession | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(
    private readonly socket: Socket<LocalConnection>,
    private readonly context: LocalConnectionContext,
  ) {
    this.handshake = new LocalHandshake(context.credential);
  }

  start(): void {
    this.timer = setTimeout(() => {
      this.refuse(`no complete request within ${this.context.handshakeTimeoutMs} ms`);
    }, this.context.handshakeTimeoutMs);
  }

  onData(chunk: Uint8Array): void {
    if (this.session) {
      this.session.onData(chunk);
      return;
    }
    if (this.closed) return;
    const step = this.handshake.feed(chunk);
    if (step.reply && step.reply.byteLength > 0) this.socket.write(step.reply);
    if (step.kind === "fail") this.refuse(step.why);
    if (step.kind === "request") {
      clearTimeout(this.timer);
      this.session = this.context.open(this.socket, step.request);
    }
  }

  onDrain(): void {
    this.session?.onDrain();
  }

  onEnd(): void {
    if (this.session) this.session.onEnd();
    else this.socket.end();
  }

  onClose(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.session?.onClose();
  }

  stop(): void {
    if (this.session) this.session.stop();
    else this.socket.end();
  }

  private refuse(why: string): void {
    clearTimeout(this.timer);
    this.closed = true;
    const peer = formatHostPort(this.socket.remoteAddress, this.socket.remotePort ?? 0);
    this.context.report("warn", `${peer}: refused: ${why}`);
    this.socket.end();
  }
}
