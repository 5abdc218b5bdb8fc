import type { TargetConnection } from "../adapters/types.ts";
import { ProxyError } from "../protocol/errors.ts";
import { type FlowLimits, Relay } from "../relay/relay.ts";
import type { WispSocket } from "./connection.ts";
import type { StreamOpener } from "./opener.ts";

export interface WsproxyTarget {
  readonly host: string;
  readonly port: number;
}

const PORT = /^[0-9]{1,5}$/;

/**
 * The target of a wsproxy URL: its last path segment is `host:port` (`[v6]:port` for an IPv6
 * address; percent-escapes decoded). Returns a reason instead when the segment is not of that form.
 */
export function parseWsproxyTarget(segment: string): WsproxyTarget | string {
  let text: string;
  try {
    text = decodeURIComponent(segment);
  } catch {
    return `"${segment}" is not a valid percent-encoded path segment`;
  }
  const colon = text.lastIndexOf(":");
  if (colon <= 0) return `"${text}" is not host:port`;
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  else if (host.includes(":")) return `"${text}" needs brackets around an IPv6 address`;
  const port = Number(portText);
  if (!PORT.test(portText) || port < 1 || port > 65535)
    return `port "${portText}" must be a whole number from 1 to 65535`;
  return { host, port };
}

/**
 * One wsproxy connection: the WebSocket's binary and text messages are the TCP stream's bytes,
 * both ways, through the same Relay as a session. The target is opened by a StreamOpener, so it
 * gets every check a Wisp stream or a handshake gets; a failure closes with the protocol's code.
 */
export class WsproxyConnection {
  private relay: Relay;
  private target: TargetConnection | undefined;
  private clientGone = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly socket: WispSocket,
    private readonly target_: WsproxyTarget,
    flow: FlowLimits,
    private readonly onFinished: (error: ProxyError | undefined) => void = () => {},
  ) {
    this.relay = new Relay(
      {
        send: (chunk) => (this.clientGone ? chunk.byteLength : socket.sendBinary(chunk)),
        bufferedAmount: () => (this.clientGone ? 0 : socket.getBufferedAmount()),
        pause: () => socket.pause(),
        resume: () => socket.resume(),
      },
      flow,
    );
  }

  start(open: StreamOpener): void {
    const { host, port } = this.target_;
    open({
      kind: "tcp",
      host,
      port,
      signal: this.abort.signal,
      events: {
        data: (chunk) => this.relay.fromTarget(chunk),
        drain: () => this.relay.targetDrained(),
        end: () => this.targetEnded(1000, "target closed"),
        error: () => this.targetEnded(1011, "target failed"),
      },
    }).then(
      (connection) => {
        this.target = connection;
        this.relay.attach(connection);
        if (this.clientGone) this.relay.endTargetAfterFlush();
      },
      (error: unknown) => {
        const failure =
          error instanceof ProxyError
            ? error
            : new ProxyError("connect_failed", `internal error: ${String(error)}`);
        this.onFinished(failure);
        if (!this.clientGone) this.socket.close(failure.closeCode, failure.code);
      },
    );
  }

  message(data: string | Uint8Array): void {
    this.relay.fromClient(typeof data === "string" ? Buffer.from(data) : data);
  }

  drain(): void {
    this.relay.clientDrained();
  }

  closed(): void {
    if (this.clientGone) return;
    this.clientGone = true;
    // Like a session: a target still opening gets what was sent once it is open, then its end.
    if (this.target) this.relay.endTargetAfterFlush();
  }

  private targetEnded(code: number, reason: string): void {
    this.target = undefined;
    this.relay.discard();
    this.onFinished(undefined);
    if (!this.clientGone) this.socket.close(code, reason);
  }
}
