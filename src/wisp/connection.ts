import { LogLevels } from "consola";
import type { ProtocolAdapter } from "../adapters/types.ts";
import { Refusal } from "../admission/refusal.ts";
import type { Grant } from "../auth/credentials.ts";
import type { ClosedBy } from "../log/closed-by.ts";
import type { Logger } from "../log/logger.ts";
import { clientText } from "../log/safe-text.ts";
import { formatHostPort } from "../net/host-port.ts";
import { CloseCode, CloseReason } from "../protocol/constants.ts";
import { ProxyError } from "../protocol/errors.ts";
import { WispClose } from "../protocol/wisp-close.ts";
import type { SessionClient } from "../session/client.ts";
import { type Clock, idleClock, lifetimeClock } from "../session/clock.ts";
import type { SessionHooks } from "../session/hooks.ts";
import type { Selection } from "../session/selection.ts";
import type { StatusReporter } from "../session/status.ts";
import type { CreditLimits } from "./credit.ts";
import { ExtensionId, parsePasswordPayload, serverExtensions } from "./extensions.ts";
import { HeldBytes } from "./held-bytes.ts";
import { OUTBOUND_HOLD, type OutboundHold, outboundHeld } from "./outbound.ts";
import {
  decodePacket,
  encodeClose,
  encodeContinue,
  encodeInfo,
  MAX_PACKET_BYTES,
  type Packet,
  readExtensions,
  streamKind,
  WispPacketError,
} from "./packet.ts";
import { ReadGate } from "./read-gate.ts";
import { RecentIds } from "./recent-ids.ts";
import { type StreamLink, type StreamSession, WispStream } from "./stream.ts";

/** What the connection needs of its WebSocket; Bun's ServerWebSocket has all of it. */
export interface WispSocket {
  /** Writes or copies `data` before it returns: the caller reuses the buffer (sharedEncoder). */
  sendBinary(data: Uint8Array): number;
  getBufferedAmount(): number;
  pause(): void;
  resume(): void;
  close(code?: number, reason?: string): void;
}

/**
 * The credential streams are opened with: known at the upgrade (none required, or an
 * Authorization header or the URL brought one), or brought by the Wisp 2 password extension.
 */
export type WispAccess =
  | { readonly kind: "open"; readonly grant: Grant | undefined }
  | {
      readonly kind: "password";
      /** The grant for this password (a token or ticket), or undefined when it is not valid. */
      authenticate(password: string, username: string): Promise<Grant | undefined>;
    };

/** What the connection asks of the server for each stream: a session with this client side. */
export interface StreamSessionRequest {
  readonly client: SessionClient;
  readonly selection: Selection;
  readonly status: StatusReporter;
  readonly grant: Grant | undefined;
  readonly streamId: number;
  /** The stream's own observers (its credit; its `released` ends the stream's count). */
  readonly hooks: SessionHooks;
}

export interface WispOptions {
  /** 2 when the upgrade offered a WebSocket subprotocol (wisp-js offers `wisp-v2`), else 1. */
  readonly version: 1 | 2;
  /** Each TCP stream's flow control towards its target; `initial` is the CONTINUE on stream 0. */
  readonly credit: CreditLimits;
  readonly maxStreams: number;
  /** The adapter of each stream type offered; UDP is offered (INFO's UDP extension) when present. */
  readonly adapters: { readonly tcp: ProtocolAdapter; readonly udp?: ProtocolAdapter };
  readonly access: WispAccess;
  /** Makes the session that serves a stream (not started). */
  readonly session: (request: StreamSessionRequest) => StreamSession;
  /** A refusal reason when the server's limits (the rate limit) refuse one more stream now. */
  readonly admitStream?: () => string | undefined;
  readonly logger: Logger;
  /** Names the connection in log lines, for example `wisp 7 127.0.0.1:50412`. */
  readonly label: string;
  /** Seconds the connection may last (`--max-lifetime`), 0 for no limit: then 4000. */
  readonly maxLifetime?: number;
  /**
   * Seconds before the connection closes with 4001 when no stream is open and no packet moved
   * either way, 0 for never. Each stream's session has the same idle clock.
   */
  readonly idleTimeout?: number;
  /** How long a client that must authenticate has for its INFO; default INFO_TIMEOUT_MS. */
  readonly infoTimeoutMs?: number;
  /** Called once, when the WebSocket has closed and no stream's session holds anything. */
  readonly released?: () => void;
  /** Bytes queued towards the client past which it is not read; default OUTBOUND_HOLD. */
  readonly outbound?: OutboundHold;
}

/**
 * wisp-protocol v2 (draft 4) gave a client 5 s to send its INFO; here it bounds the wait for the
 * credential when password authentication is required. Without one nothing waits for the INFO.
 */
export const INFO_TIMEOUT_MS = 5000;
/** Closed stream ids remembered, so late DATA for them is dropped quietly rather than refused. */
const RECENT_IDS = 4096;
/** A WebSocket close reason is at most 123 bytes. */
const CLOSE_REASON_CHARS = 120;

type State = "awaiting-info" | "authenticating" | "open" | "closed";

/** A CONNECT's target for a log line: the client chose the host, of any length and content. */
const loggedTarget = (host: string, port: number): string => clientText(formatHostPort(host, port));

/**
 * One Wisp connection: the per-WebSocket side of the protocol. Handshake (CONTINUE on stream 0,
 * and INFO for Wisp 2), the stream table and its limit, and packet dispatch; each stream's bytes
 * move in its WispStream. Every callback lands here and never throws.
 */
export class WispConnection {
  /** Streams the client can still address. */
  private readonly streams = new Map<number, WispStream>();
  private readonly sessions = new Map<WispStream, StreamSession>();
  private readonly recent = new RecentIds(RECENT_IDS);
  /**
   * Streams whose client side has ended but whose session still flushes to its target: they
   * count against the stream limit until their target is closed.
   */
  private readonly flushing = new Set<WispStream>();
  /** Why the WebSocket is not being read (credential check, bytes held, replies queued). */
  private readonly gate: ReadGate;
  private readonly held: HeldBytes<WispStream>;
  private state: State = "open";
  /** The server closed the WebSocket (lifetime, idle, shutdown, a refusal): its streams say so. */
  private closedBy: ClosedBy = "client";
  private grant: Grant | undefined;
  private infoTimer: ReturnType<typeof setTimeout> | undefined;
  private lifetime: Clock | undefined;
  private idle: Clock | undefined;
  private wasReleased = false;
  /** Date.now() of the last packet either way; kept only with an idle timeout. */
  private lastActivity = Date.now();
  /** Messages that arrived while a credential was being checked, replayed in order after. */
  private heldMessages: (string | Uint8Array)[] = [];
  /** The version the client turned out to speak: 2 once its INFO came, 1 when it went ahead without. */
  clientVersion: 1 | 2 | undefined;
  private readonly link: StreamLink;
  private readonly tracing: boolean;

  constructor(
    private readonly socket: WispSocket,
    private readonly options: WispOptions,
  ) {
    this.tracing = options.logger.level >= LogLevels.debug;
    const trackActivity = (options.idleTimeout ?? 0) > 0;
    this.gate = new ReadGate(socket);
    this.held = new HeldBytes({
      stream: options.credit.bytes,
      connection: options.credit.bytes * options.maxStreams,
    });
    this.link = {
      send: (packet) => {
        if (this.state === "closed") return packet.byteLength;
        if (trackActivity) this.lastActivity = Date.now();
        const sent = socket.sendBinary(packet);
        if (sent < 0) this.checkOutbound();
        return sent;
      },
      bufferedAmount: () => (this.state === "closed" ? 0 : socket.getBufferedAmount()),
      finished: (stream) => this.streamDone(stream),
      held: (stream, bytes, open) => {
        if (this.state === "closed") return;
        this.held.set(stream, bytes, open);
        this.gate.hold("held-bytes", this.held.over);
      },
      violated: (stream, why) => this.refuseStream(stream.id, why),
      released: (stream) => this.streamReleased(stream),
    };
  }

  /** Streams that count against the limit: open ones, and closed ones still flushing. */
  get activeStreams(): number {
    return this.streams.size + this.flushing.size;
  }

  /** Bytes queued on the WebSocket towards the client. */
  get bufferedToClient(): number {
    return this.state === "closed" ? 0 : this.socket.getBufferedAmount();
  }

  /** False while the WebSocket is not read (credential check, bytes held, replies queued). */
  get readingClient(): boolean {
    return !this.gate.paused;
  }

  /** Bytes the streams hold for their targets, ended streams that still flush included. */
  get heldForTargets(): number {
    return this.held.total;
  }

  /** What each live stream holds for its target: for metrics, shutdown and memory tests. */
  streamStates(): { id: number; packets: number; bytes: number; readingTarget: boolean }[] {
    return [...this.streams.values()].map((stream) => ({
      id: stream.id,
      packets: stream.credit.held,
      bytes: stream.pendingToTarget,
      readingTarget: stream.readingTarget,
    }));
  }

  /**
   * The upgrade is done. Wisp 2: INFO first, then CONTINUE on stream 0 (at once, or once the
   * password extension proved a credential). wisp-js takes a CONTINUE that comes before the INFO to
   * mean Wisp 1, so INFO always leads. Wisp 1: CONTINUE only.
   */
  start(): void {
    this.startClocks();
    const { access, version } = this.options;
    if (version === 2) {
      const extensions = serverExtensions({
        udp: this.options.adapters.udp !== undefined,
        passwordRequired: access.kind === "password",
      });
      this.socket.sendBinary(encodeInfo(2, 0, extensions));
    } else {
      this.clientVersion = 1;
    }
    if (access.kind === "open") {
      this.grant = access.grant;
      this.socket.sendBinary(encodeContinue(0, this.options.credit.initial));
      return;
    }
    if (version === 1) {
      // A Wisp 1 client has no INFO to carry a credential: it had to bring one with the upgrade.
      this.refuse(WispClose.authMissingCredentials, "a credential is required");
      return;
    }
    this.state = "awaiting-info";
    const timeoutMs = this.options.infoTimeoutMs ?? INFO_TIMEOUT_MS;
    this.infoTimer = setTimeout(
      () =>
        this.refuse(
          WispClose.authMissingCredentials,
          `no INFO with a credential within ${timeoutMs / 1000} s`,
        ),
      timeoutMs,
    );
  }

  message(data: string | Uint8Array): void {
    if (this.state === "closed") return;
    if (this.idle) this.lastActivity = Date.now();
    // Refused before anything is kept, even while a credential is checked.
    if (data.length > MAX_PACKET_BYTES) {
      this.protocolError(
        CloseCode.messageTooBig,
        `packet of ${data.length} bytes exceeds ${MAX_PACKET_BYTES}`,
      );
      return;
    }
    if (this.state === "authenticating") {
      this.heldMessages.push(data);
      return;
    }
    if (typeof data === "string") {
      this.protocolError(CloseCode.unsupportedData, "text frame: Wisp packets are binary messages");
      return;
    }
    let packet: Packet;
    try {
      packet = decodePacket(data);
    } catch (error) {
      if (!(error instanceof WispPacketError)) throw error;
      // Stream 0 is the connection's own: a malformed packet there ends the connection.
      if (!error.streamId || this.state === "awaiting-info")
        this.protocolError(CloseCode.protocolError, error.message);
      else this.refuseStream(error.streamId, error.message);
      return;
    }
    if (this.state === "awaiting-info") {
      this.awaitingInfo(packet);
      return;
    }
    if (this.clientVersion === undefined && packet.type !== "info") this.clientVersion = 1;
    switch (packet.type) {
      case "connect":
        this.connect(packet);
        return;
      case "data": {
        if (packet.streamId === 0) {
          this.protocolError(CloseCode.protocolError, "DATA on stream 0, which is reserved");
          return;
        }
        const stream = this.streams.get(packet.streamId);
        if (stream) stream.data(packet.payload);
        else if (!this.recent.has(packet.streamId))
          this.refuseStream(packet.streamId, "DATA for a stream that was never opened");
        return;
      }
      case "close":
        this.clientClose(packet.streamId, packet.reason);
        return;
      case "continue":
        this.debug(`CONTINUE from the client on stream ${packet.streamId} ignored`);
        return;
      case "info":
        if (this.options.version === 2 && this.clientVersion === undefined) {
          this.clientVersion = 2;
          this.debug(`client INFO: Wisp ${packet.major}.${packet.minor}`);
        } else {
          this.debug("INFO after the handshake ignored");
        }
        return;
    }
  }

  /** The WebSocket can take more: targets paused for it may read again. */
  drain(): void {
    for (const session of this.sessions.values()) session.clientDrained();
    this.checkOutbound();
  }

  /** The WebSocket closed: every stream ends as if the client had closed it (flush, then end). */
  closed(code = 1006): void {
    if (this.state === "closed") return;
    this.state = "closed";
    clearTimeout(this.infoTimer);
    this.lifetime?.stop();
    this.idle?.stop();
    this.heldMessages = [];
    this.gate.clear();
    for (const stream of [...this.streams.values()])
      stream.clientClosed(WispClose.networkError, code, this.closedBy);
    this.releaseIfDone();
  }

  /** Closes the WebSocket (lifetime, shutdown); `closed` then ends the streams. */
  close(code: number, reason: string): void {
    if (this.state === "closed") return;
    this.closedBy = "server";
    this.socket.close(code, reason);
  }

  private startClocks(): void {
    this.lifetime = lifetimeClock(this.options.maxLifetime ?? 0, () =>
      this.close(CloseCode.maxLifetime, CloseReason.maxLifetime),
    );
    const idleMs = (this.options.idleTimeout ?? 0) * 1000;
    if (idleMs <= 0) return;
    this.idle = idleClock(
      idleMs,
      () => {
        // Open streams have idle clocks of their own: the connection is idle once it has none.
        if (this.streams.size > 0) this.lastActivity = Date.now();
        return this.lastActivity;
      },
      () => this.close(CloseCode.idleTimeout, CloseReason.idleTimeout),
    );
  }

  private awaitingInfo(packet: Packet): void {
    if (packet.type !== "info") {
      this.refuse(
        WispClose.authMissingCredentials,
        `${packet.type.toUpperCase()} before the INFO that carries the credential`,
      );
      return;
    }
    clearTimeout(this.infoTimer);
    this.clientVersion = 2;
    let extensions: ReturnType<typeof readExtensions>;
    try {
      extensions = readExtensions(packet.extensionBytes);
    } catch (error) {
      if (!(error instanceof WispPacketError)) throw error;
      this.protocolError(CloseCode.protocolError, error.message);
      return;
    }
    const extension = extensions.find((e) => e.id === ExtensionId.passwordAuth);
    if (!extension) {
      this.refuse(WispClose.authMissingCredentials, "the client's INFO has no password extension");
      return;
    }
    const credentials = parsePasswordPayload(extension.payload);
    if (!credentials) {
      this.refuse(WispClose.authBadPassword, "the password extension payload is malformed");
      return;
    }
    const access = this.options.access;
    if (access.kind !== "password") return;
    this.state = "authenticating";
    this.gate.hold("authenticating", true);
    // The password is the token or ticket; the user name may name the principal (see wisp.ts).
    access.authenticate(credentials.password, credentials.username).then(
      (grant) => this.authenticated(grant),
      (error: unknown) => {
        this.options.logger.error(`${this.options.label}: credential check failed:`, error);
        this.refuse(WispClose.authBadPassword, "the credential could not be checked");
      },
    );
  }

  private authenticated(grant: Grant | undefined): void {
    if (this.state !== "authenticating") return;
    if (!grant) {
      this.refuse(WispClose.authBadPassword, "the credential is not valid");
      return;
    }
    this.grant = grant;
    this.state = "open";
    this.socket.sendBinary(encodeContinue(0, this.options.credit.initial));
    this.gate.hold("authenticating", false);
    const held = this.heldMessages;
    this.heldMessages = [];
    for (const message of held) this.message(message);
  }

  private connect(packet: Extract<Packet, { type: "connect" }>): void {
    const { streamId: id, port, host } = packet;
    if (id === 0) {
      this.protocolError(CloseCode.protocolError, "CONNECT on stream 0, which is reserved");
      return;
    }
    const existing = this.streams.get(id);
    if (existing) {
      // The client lost track of its own ids; neither stream can be trusted.
      this.options.logger.debug(`${this.options.label}: CONNECT for open stream ${id}`);
      existing.reset(WispClose.invalid);
      return;
    }
    const kind = streamKind(packet.streamType);
    const adapter = kind === undefined ? undefined : this.options.adapters[kind];
    if (kind === undefined || adapter === undefined) {
      this.refuseStream(id, `stream type 0x${packet.streamType.toString(16)} is not offered`);
      return;
    }
    if (port === 0) {
      this.refuseStream(id, `CONNECT to port 0 (${loggedTarget(host, port)})`);
      return;
    }
    if (this.activeStreams >= this.options.maxStreams) {
      this.throttle(id, `${this.options.maxStreams} streams open`);
      return;
    }
    const limited = this.options.admitStream?.();
    if (limited !== undefined) {
      this.throttle(id, limited);
      return;
    }
    const stream = new WispStream(id, kind, host, port, this.link, this.options.credit);
    let selection: Selection;
    try {
      // The same validation as a handshake's target_ip and target_port.
      selection = {
        adapter,
        target: adapter.parse({ target_ip: host, target_port: port }),
        echo: {},
        token: undefined,
      };
    } catch (error) {
      if (!(error instanceof ProxyError)) throw error;
      this.debug(`stream ${id} to ${loggedTarget(host, port)}: ${clientText(error.message)}`);
      this.recent.add(id);
      this.link.send(encodeClose(id, Refusal.of(error).wispReason));
      return;
    }
    this.streams.set(id, stream);
    this.recent.delete(id);
    const session = this.options.session({
      client: stream,
      selection,
      status: stream,
      grant: this.grant,
      streamId: id,
      hooks: stream.hooks,
    });
    this.sessions.set(stream, session);
    stream.start(session);
  }

  private throttle(id: number, why: string): void {
    this.debug(`stream ${id} refused: ${why}`);
    this.recent.add(id);
    this.link.send(encodeClose(id, WispClose.throttled));
  }

  private clientClose(id: number, reason: number): void {
    if (id === 0) {
      // Wisp 2: the client rejects the connection (for example, incompatible extensions).
      this.debug(`client closed the connection with reason 0x${reason.toString(16)}`);
      this.socket.close(CloseCode.normal, "client closed the Wisp connection");
      return;
    }
    this.streams.get(id)?.clientClosed(reason);
  }

  private streamDone(stream: WispStream): void {
    if (this.streams.get(stream.id) !== stream) return;
    this.streams.delete(stream.id);
    this.sessions.delete(stream);
    this.recent.add(stream.id);
    this.flushing.add(stream);
  }

  /** A stream's session holds nothing any more: it stops counting. */
  private streamReleased(stream: WispStream): void {
    this.flushing.delete(stream);
    this.releaseIfDone();
  }

  private releaseIfDone(): void {
    if (this.wasReleased || this.state !== "closed" || this.flushing.size > 0) return;
    if (this.streams.size > 0) return;
    this.wasReleased = true;
    this.options.released?.();
  }

  /** Replies queue up behind a client that does not read: stop reading it until they drain. */
  private checkOutbound(): void {
    if (this.state === "closed") return;
    const holding = this.gate.has("outbound");
    const limits = this.options.outbound ?? OUTBOUND_HOLD;
    this.gate.hold("outbound", outboundHeld(this.socket.getBufferedAmount(), holding, limits));
  }

  /** A packet for `id` that is not valid: CLOSE 0x41 for that stream, the others carry on. */
  private refuseStream(id: number, why: string): void {
    this.debug(`stream ${id}: ${why}`);
    const stream = this.streams.get(id);
    if (stream) {
      stream.reset(WispClose.invalid);
      return;
    }
    this.recent.add(id);
    this.link.send(encodeClose(id, WispClose.invalid));
  }

  /** The connection is refused during the handshake: CLOSE on stream 0, then the WebSocket. */
  private refuse(reason: number, why: string): void {
    if (this.state === "closed") return;
    this.options.logger.info(`${this.options.label}: refused: ${why}`);
    this.closedBy = "server";
    this.socket.sendBinary(encodeClose(0, reason));
    this.socket.close(CloseCode.unauthorized, "unauthorized");
    this.closed();
  }

  /**
   * Framing that is not Wisp, or a packet that breaks stream 0: as the spec ends a connection,
   * CLOSE 0x41 on stream 0, then the WebSocket closes with the reason saying what was wrong.
   */
  private protocolError(code: number, why: string): void {
    this.options.logger.info(`${this.options.label}: protocol error: ${why}`);
    this.closedBy = "server";
    this.socket.sendBinary(encodeClose(0, WispClose.invalid));
    this.socket.close(code, `wisp: ${why}`.slice(0, CLOSE_REASON_CHARS));
    this.closed();
  }

  private debug(message: string): void {
    if (this.tracing) this.options.logger.debug(`${this.options.label}: ${message}`);
  }
}
