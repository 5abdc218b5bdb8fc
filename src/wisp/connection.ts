import { LogLevels } from "consola";
import { formatBytes, type Logger } from "../log/logger.ts";
import { formatHostPort } from "../net/host-port.ts";
import { ProxyError } from "../protocol/errors.ts";
import type { FlowLimits } from "../relay/relay.ts";
import { WispClose } from "./close-reason.ts";
import { ExtensionId, parsePasswordPayload, serverExtensions } from "./extensions.ts";
import type { StreamOpener } from "./opener.ts";
import {
  decodePacket,
  encodeClose,
  encodeContinue,
  encodeInfo,
  type Packet,
  streamKind,
  WispPacketError,
} from "./packet.ts";
import { RecentIds } from "./recent-ids.ts";
import { type StreamLink, WispStream } from "./stream.ts";

/** What the connection needs of its WebSocket; Bun's ServerWebSocket has all of it. */
export interface WispSocket {
  sendBinary(data: Uint8Array): number;
  getBufferedAmount(): number;
  pause(): void;
  resume(): void;
  close(code?: number, reason?: string): void;
}

/** How streams get opened: at once, or once the Wisp 2 password extension proved a credential. */
export type WispAccess =
  | { readonly kind: "open"; readonly open: StreamOpener }
  | {
      readonly kind: "password";
      /** The opener for this credential, or undefined when it is not valid. */
      authenticate(username: string, password: string): Promise<StreamOpener | undefined>;
    };

export interface WispOptions {
  /** 2 when the upgrade offered a WebSocket subprotocol (wisp-js offers `wisp-v2`), else 1. */
  readonly version: 1 | 2;
  /** Packets the server holds per TCP stream towards its target: the CONTINUE on stream 0. */
  readonly bufferPackets: number;
  readonly maxStreams: number;
  /** Whether UDP streams are offered (the INFO's UDP extension) and accepted. */
  readonly udp: boolean;
  readonly access: WispAccess;
  readonly flow: FlowLimits;
  readonly logger: Logger;
  /** Names the connection in log lines, for example `wisp 7 127.0.0.1:50412`. */
  readonly label: string;
  /** How long a client that must authenticate has for its INFO; default INFO_TIMEOUT_MS. */
  readonly infoTimeoutMs?: number;
  /** Called once per stream when it is over on both sides, for metrics. */
  readonly streamFinished?: (stream: WispStream) => void;
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

/**
 * One Wisp connection: the per-WebSocket side of the protocol. Handshake (CONTINUE on stream 0,
 * and INFO for Wisp 2), the stream table and its limit, and packet dispatch; each stream's bytes
 * move in its WispStream. Every callback lands here and never throws.
 */
export class WispConnection {
  /** Streams the client can still address. */
  private readonly streams = new Map<number, WispStream>();
  /** Streams the client closed whose target is still taking the last bytes; they count too. */
  private readonly draining = new Set<WispStream>();
  private readonly recent = new RecentIds(RECENT_IDS);
  private readonly overruns = new Set<WispStream>();
  private state: State = "open";
  private opener: StreamOpener | undefined;
  private infoTimer: ReturnType<typeof setTimeout> | undefined;
  /** Messages that arrived while a credential was being checked, replayed in order after. */
  private heldMessages: (string | Uint8Array)[] = [];
  /** The version the client turned out to speak: 2 once its INFO came, 1 when it went ahead without. */
  clientVersion: 1 | 2 | undefined;
  streamsOpened = 0;
  private readonly link: StreamLink;
  private readonly tracing: boolean;

  constructor(
    private readonly socket: WispSocket,
    private readonly options: WispOptions,
  ) {
    this.tracing = options.logger.level >= LogLevels.debug;
    this.link = {
      send: (packet) => (this.state === "closed" ? packet.byteLength : socket.sendBinary(packet)),
      bufferedAmount: () => (this.state === "closed" ? 0 : socket.getBufferedAmount()),
      flow: options.flow,
      trackActivity: false,
      finished: (stream) => this.streamDone(stream),
      overrun: (stream, over) => this.streamOverrun(stream, over),
    };
  }

  get activeStreams(): number {
    return this.streams.size + this.draining.size;
  }

  /** Bytes queued on the WebSocket towards the client. */
  get bufferedToClient(): number {
    return this.state === "closed" ? 0 : this.socket.getBufferedAmount();
  }

  /** What each live stream holds for its target: for metrics, shutdown and memory tests. */
  streamStates(): { id: number; packets: number; bytes: number; readingTarget: boolean }[] {
    return [...this.streams.values(), ...this.draining].map((stream) => ({
      id: stream.id,
      packets: stream.credit.held,
      bytes: stream.relay.pendingToTarget,
      readingTarget: stream.readingTarget,
    }));
  }

  /**
   * The upgrade is done. Wisp 2: INFO first, then CONTINUE on stream 0 (at once, or once the
   * password extension proved a credential). wisp-js takes a CONTINUE that comes before the INFO to
   * mean Wisp 1, so INFO always leads. Wisp 1: CONTINUE only.
   */
  start(): void {
    const { access, version } = this.options;
    if (version === 2) {
      const extensions = serverExtensions({
        udp: this.options.udp,
        passwordRequired: access.kind === "password",
      });
      this.socket.sendBinary(encodeInfo(2, 0, extensions));
    } else {
      this.clientVersion = 1;
    }
    if (access.kind === "open") {
      this.opener = access.open;
      this.socket.sendBinary(encodeContinue(0, this.options.bufferPackets));
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
    if (this.state === "authenticating") {
      this.heldMessages.push(data);
      return;
    }
    if (typeof data === "string") {
      this.protocolError(1003, "text frame: Wisp packets are binary messages");
      return;
    }
    let packet: Packet;
    try {
      packet = decodePacket(data);
    } catch (error) {
      if (!(error instanceof WispPacketError)) throw error;
      if (error.streamId === undefined) this.protocolError(1002, error.message);
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
    for (const stream of this.streams.values()) stream.clientDrained();
    for (const stream of this.draining) stream.clientDrained();
  }

  /** The WebSocket closed: every stream ends as if the client had closed it (flush, then end). */
  closed(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    clearTimeout(this.infoTimer);
    this.heldMessages = [];
    for (const stream of [...this.streams.values()]) {
      this.streams.delete(stream.id);
      this.draining.add(stream);
      stream.clientClosed(WispClose.networkError);
    }
  }

  /** Ends every stream now with `reason` (server shutdown), then the WebSocket. */
  close(code: number, reason: string): void {
    if (this.state === "closed") return;
    for (const stream of [...this.streams.values()]) stream.reset(WispClose.unknown);
    this.socket.close(code, reason);
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
    const extension = packet.extensions.find((e) => e.id === ExtensionId.passwordAuth);
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
    this.socket.pause();
    access.authenticate(credentials.username, credentials.password).then(
      (opener) => this.authenticated(opener),
      (error: unknown) => {
        this.options.logger.error(`${this.options.label}: credential check failed:`, error);
        this.refuse(WispClose.authBadPassword, "the credential could not be checked");
      },
    );
  }

  private authenticated(opener: StreamOpener | undefined): void {
    if (this.state !== "authenticating") return;
    if (!opener) {
      this.refuse(WispClose.authBadPassword, "the credential is not valid");
      return;
    }
    this.opener = opener;
    this.state = "open";
    this.socket.sendBinary(encodeContinue(0, this.options.bufferPackets));
    this.socket.resume();
    const held = this.heldMessages;
    this.heldMessages = [];
    for (const message of held) this.message(message);
  }

  private connect(packet: Extract<Packet, { type: "connect" }>): void {
    const { streamId: id, port, host } = packet;
    if (id === 0) {
      this.protocolError(1002, "CONNECT on stream 0, which is reserved");
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
    const where = formatHostPort(host, port);
    if (kind === undefined || (kind === "udp" && !this.options.udp)) {
      this.refuseStream(id, `stream type 0x${packet.streamType.toString(16)} is not offered`);
      return;
    }
    if (port === 0) {
      this.refuseStream(id, `CONNECT to port 0 (${where})`);
      return;
    }
    if (this.activeStreams >= this.options.maxStreams) {
      this.debug(`stream ${id} to ${where} refused: ${this.options.maxStreams} streams open`);
      this.recent.add(id);
      this.link.send(encodeClose(id, WispClose.throttled));
      return;
    }
    const stream = new WispStream(id, kind, host, port, this.link, this.options.bufferPackets);
    this.streams.set(id, stream);
    this.recent.delete(id);
    this.streamsOpened++;
    const open = this.opener as StreamOpener;
    open({ kind, host, port, signal: stream.abort.signal, events: stream.events }).then(
      (connection) => stream.opened(connection),
      (error: unknown) => {
        if (!(error instanceof ProxyError))
          this.options.logger.error(`${this.options.label} stream ${id}:`, error);
        const failure =
          error instanceof ProxyError
            ? error
            : new ProxyError("connect_failed", `internal error: ${String(error)}`);
        this.debug(`stream ${id} to ${where}: ${failure.code}: ${failure.message}`);
        stream.failed(failure);
      },
    );
  }

  private clientClose(id: number, reason: number): void {
    if (id === 0) {
      // Wisp 2: the client rejects the connection (for example, incompatible extensions).
      this.debug(`client closed the connection with reason 0x${reason.toString(16)}`);
      this.socket.close(1000, "client closed the Wisp connection");
      return;
    }
    const stream = this.streams.get(id);
    if (!stream) return;
    this.streams.delete(id);
    this.recent.add(id);
    if (stream.phase !== "closed") this.draining.add(stream);
    stream.clientClosed(reason);
  }

  private streamDone(stream: WispStream): void {
    if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id);
    this.draining.delete(stream);
    this.recent.add(stream.id);
    this.options.streamFinished?.(stream);
    this.logStream(stream);
  }

  private streamOverrun(stream: WispStream, over: boolean): void {
    if (over) {
      // A client sending beyond its credit: stop reading it rather than hold without bound.
      if (this.overruns.size === 0) this.socket.pause();
      this.overruns.add(stream);
      this.debug(`stream ${stream.id} went beyond its credit: reading paused`);
    } else if (this.overruns.delete(stream) && this.overruns.size === 0) {
      if (this.state !== "closed") this.socket.resume();
    }
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
    this.socket.sendBinary(encodeClose(0, reason));
    this.socket.close(4401, "unauthorized");
    this.closed();
  }

  /** Framing that is not Wisp: the WebSocket closes, with the reason saying what was wrong. */
  private protocolError(code: number, why: string): void {
    this.options.logger.info(`${this.options.label}: protocol error: ${why}`);
    this.socket.close(code, `wisp: ${why}`.slice(0, CLOSE_REASON_CHARS));
    this.closed();
  }

  private debug(message: string): void {
    if (this.tracing) this.options.logger.debug(`${this.options.label}: ${message}`);
  }

  private logStream(stream: WispStream): void {
    if (this.options.logger.level < LogLevels.info) return;
    const seconds = ((performance.now() - stream.startedAt) / 1000).toFixed(3);
    const reason = `0x${(stream.closeReason ?? WispClose.unknown).toString(16).padStart(2, "0")}`;
    this.options.logger.info(
      `${this.options.label} stream ${stream.id} -> ${stream.kind} ${formatHostPort(stream.host, stream.port)}` +
        ` up ${formatBytes(stream.bytesFromClient)} down ${formatBytes(stream.bytesFromTarget)}` +
        ` ${seconds}s close ${reason}`,
    );
  }
}
