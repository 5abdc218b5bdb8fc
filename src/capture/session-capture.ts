import type { SessionEnd } from "../session/end.ts";
import { asIPv6, ipBytes } from "./ip-bytes.ts";
import {
  type Addresses,
  MAX_TCP_PAYLOAD,
  MAX_UDP_PAYLOAD,
  TcpFlag,
  tcpPacket,
  udpPacket,
} from "./packets.ts";
import {
  interfaceBlock,
  LINKTYPE_RAW,
  packetBlock,
  packetBlockLength,
  sectionHeaderBlock,
  statisticsBlock,
} from "./pcapng.ts";

/**
 * One session as a pcapng capture: the bytes each way as a TCP stream (or UDP datagrams)
 * between the client's address and the target's, with synthetic but consistent headers.
 * Each call returns the bytes to append to the file; the whole file stays within `maxBytes`.
 * Browser-safe (the console page exports with it): no `node:` imports.
 */

export type Transport = "tcp" | "udp";

export interface CaptureEndpoint {
  /** An IPv4 or IPv6 literal; anything else (a host name, unknown) gets a documentation address. */
  readonly address: string;
  readonly port: number;
}

export interface SessionCaptureOptions {
  readonly client: CaptureEndpoint;
  readonly target: CaptureEndpoint;
  readonly transport: Transport;
  /** Written as comments of the file's section header: what this session was. */
  readonly comments?: readonly string[];
  /** The file never grows past this many bytes; what does not fit is left out, and the file says so. */
  readonly maxBytes?: number;
  readonly application?: string;
}

export interface SessionClose {
  /** The WebSocket close code, when the WebSocket closed. */
  readonly code?: number | undefined;
  readonly reason?: string | undefined;
  readonly how: SessionEnd;
}

/** Room kept for the closing packets and their comments once the data no longer fits. */
export const CLOSING_RESERVE = 2048;
/** The smallest `maxBytes` that holds a header, a handshake and the closing packets. */
export const MIN_CAPTURE_BYTES = 4096;
/** The server's default file limit per session (--capture-max-bytes). */
export const DEFAULT_CAPTURE_MAX_BYTES = 8 * 1024 * 1024;
export const DEFAULT_APPLICATION = "socket2web";

/** Where an address is not known (a host name, a browser's own address): RFC 5737 ones. */
const UNKNOWN_CLIENT = "192.0.2.1";
const UNKNOWN_TARGET = "192.0.2.2";
const CLIENT_ISN = 0x1000_0000;
const TARGET_ISN = 0x5000_0000;
const WINDOW = 0xffff;
const MAX_COMMENT_CHARS = 512;

export type Side = "client" | "target";

/** The last packet, held back so a truncation or close comment can still be attached to it. */
interface Pending {
  readonly packet: Uint8Array;
  readonly micros: number;
}

export class SessionCapture {
  private readonly client: Uint8Array;
  private readonly target: Uint8Array;
  private readonly maxBytes: number;
  private readonly next: Record<Side, number> = { client: CLIENT_ISN, target: TARGET_ISN };
  private written = 0;
  private started = false;
  private ended = false;
  private cut = false;
  private pending: Pending | undefined;
  /** Payload bytes seen and payload bytes captured, each way. */
  readonly seen: Record<Side, number> = { client: 0, target: 0 };
  readonly captured: Record<Side, number> = { client: 0, target: 0 };

  constructor(private readonly options: SessionCaptureOptions) {
    let client = ipBytes(options.client.address) ?? (ipBytes(UNKNOWN_CLIENT) as Uint8Array);
    let target = ipBytes(options.target.address) ?? (ipBytes(UNKNOWN_TARGET) as Uint8Array);
    // One packet has one IP version: an IPv4 side meets an IPv6 side in its IPv4-mapped form.
    if (client.byteLength !== target.byteLength) {
      client = asIPv6(client);
      target = asIPv6(target);
    }
    this.client = client;
    this.target = target;
    this.maxBytes = Math.max(options.maxBytes ?? Number.POSITIVE_INFINITY, MIN_CAPTURE_BYTES);
  }

  /** Some data was left out because of `maxBytes`. */
  get truncated(): boolean {
    return this.cut;
  }

  /** Bytes returned so far (the file's size once they are all written). */
  get bytesWritten(): number {
    return this.written;
  }

  /** The file's header and, for TCP, the three-way handshake. Call once, first. */
  start(micros: number): Uint8Array {
    if (this.started) return new Uint8Array(0);
    this.started = true;
    const { application = DEFAULT_APPLICATION, comments = [] } = this.options;
    const blocks = [
      sectionHeaderBlock(application, comments.map(limitComment)),
      interfaceBlock(LINKTYPE_RAW, `${application} session`),
    ];
    if (this.options.transport === "tcp") {
      blocks.push(
        packetBlock(this.segment("client", TcpFlag.syn), micros),
        packetBlock(this.segment("target", TcpFlag.syn | TcpFlag.ack), micros),
      );
      this.pending = { packet: this.segment("client", TcpFlag.ack), micros };
    }
    return this.emit(blocks);
  }

  fromClient(payload: Uint8Array, micros: number): Uint8Array {
    return this.data("client", payload, micros);
  }

  fromTarget(payload: Uint8Array, micros: number): Uint8Array {
    return this.data("target", payload, micros);
  }

  /**
   * Counts `length` bytes that were seen but not offered for capture: the file is truncated there,
   * with `why` as the comment when the cause is not the file's own limit.
   */
  uncaptured(side: Side, length: number, micros: number, why?: string): Uint8Array {
    if (!this.started || this.ended || length === 0) return new Uint8Array(0);
    this.seen[side] += length;
    return this.cut ? new Uint8Array(0) : this.emit(this.truncate(micros, why));
  }

  /** The closing packets (FIN or RST as the session ended), with the close as a comment. */
  end(close: SessionClose, micros: number): Uint8Array {
    if (!this.started || this.ended) return new Uint8Array(0);
    this.ended = true;
    const comments = [limitComment(this.closeComment(close))];
    if (this.options.transport === "udp") return this.emit(this.flush(micros, comments));
    const first: Side =
      close.how === "client-end" || close.how === "client-reset" ? "client" : "target";
    const second = other(first);
    const blocks = this.flush(micros);
    if (close.how === "client-reset" || close.how === "target-reset") {
      blocks.push(packetBlock(this.segment(first, TcpFlag.rst | TcpFlag.ack), micros, comments));
    } else {
      blocks.push(
        packetBlock(this.segment(first, TcpFlag.fin | TcpFlag.ack), micros, comments),
        packetBlock(this.segment(second, TcpFlag.ack), micros),
        packetBlock(this.segment(second, TcpFlag.fin | TcpFlag.ack), micros),
        packetBlock(this.segment(first, TcpFlag.ack), micros),
      );
    }
    return this.emit(blocks);
  }

  private data(side: Side, payload: Uint8Array, micros: number): Uint8Array {
    if (!this.started || this.ended) return new Uint8Array(0);
    this.seen[side] += payload.byteLength;
    if (this.cut) return new Uint8Array(0);
    return this.emit(
      this.options.transport === "udp"
        ? this.datagram(side, payload, micros)
        : this.stream(side, payload, micros),
    );
  }

  /** One datagram, whole or not at all. */
  private datagram(side: Side, payload: Uint8Array, micros: number): Uint8Array[] {
    const datagram = payload.subarray(0, MAX_UDP_PAYLOAD);
    const needed = packetBlockLength(this.headerLength() + datagram.byteLength);
    if (needed > this.budget()) return this.truncate(micros);
    const blocks = this.flush(micros);
    this.pending = { packet: udpPacket(this.addresses(side), datagram), micros };
    this.captured[side] += datagram.byteLength;
    return blocks;
  }

  /** Segments of at most MAX_TCP_PAYLOAD bytes, each acknowledged by the peer; cut where the budget ends. */
  private stream(side: Side, payload: Uint8Array, micros: number): Uint8Array[] {
    const blocks: Uint8Array[] = [];
    const overhead = packetBlockLength(this.headerLength()) * 2 + 3; // data block + ACK, padding
    for (let offset = 0; offset < payload.byteLength; ) {
      const chunk = payload.subarray(offset, offset + MAX_TCP_PAYLOAD);
      const room = this.budget() - blocks.reduce((sum, block) => sum + block.byteLength, 0);
      const fits = chunk.subarray(0, Math.max(0, room - overhead));
      if (fits.byteLength > 0) {
        blocks.push(...this.flush(micros));
        blocks.push(packetBlock(this.segment(side, TcpFlag.psh | TcpFlag.ack, fits), micros));
        this.pending = { packet: this.segment(other(side), TcpFlag.ack), micros };
        this.captured[side] += fits.byteLength;
        offset += fits.byteLength;
      }
      if (fits.byteLength < chunk.byteLength) {
        blocks.push(...this.truncate(micros));
        break;
      }
    }
    return blocks;
  }

  /** Bytes still free for data: the limit, less what is written, the held packet and the reserve. */
  private budget(): number {
    const held = this.pending ? packetBlockLength(this.pending.packet.byteLength) : 0;
    return this.maxBytes - CLOSING_RESERVE - this.written - held;
  }

  private truncate(
    micros: number,
    why = `capture truncated: the file reached its limit of ${this.maxBytes} bytes; later data was not captured`,
  ): Uint8Array[] {
    this.cut = true;
    return this.flush(micros, [limitComment(why)]);
  }

  /** Writes the held packet, with `comments`; with none held, the comments go in a statistics block. */
  private flush(micros: number, comments: readonly string[] = []): Uint8Array[] {
    const pending = this.pending;
    this.pending = undefined;
    if (pending) return [packetBlock(pending.packet, pending.micros, comments)];
    return comments.length > 0 ? [statisticsBlock(micros, comments)] : [];
  }

  private closeComment(close: SessionClose): string {
    const websocket =
      close.code === undefined
        ? "WebSocket closed"
        : `WebSocket closed with code ${close.code}${close.reason ? ` reason "${close.reason}"` : ""}`;
    const totals = `client sent ${this.seen.client} bytes, target sent ${this.seen.target} bytes`;
    const captured = this.cut
      ? `; captured ${this.captured.client} and ${this.captured.target} bytes (truncated)`
      : "";
    return `${websocket}; session end: ${close.how}; ${totals}${captured}`;
  }

  private headerLength(): number {
    const ip = this.client.byteLength === 4 ? 20 : 40;
    return ip + (this.options.transport === "udp" ? 8 : 20);
  }

  private addresses(side: Side): Addresses {
    const { client, target } = this.options;
    return side === "client"
      ? {
          source: this.client,
          destination: this.target,
          sourcePort: client.port,
          destinationPort: target.port,
        }
      : {
          source: this.target,
          destination: this.client,
          sourcePort: target.port,
          destinationPort: client.port,
        };
  }

  /** A TCP segment from `side`, advancing its sequence number (SYN and FIN count as one byte). */
  private segment(side: Side, flags: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
    const packet = tcpPacket({
      ...this.addresses(side),
      seq: this.next[side],
      ack: flags & TcpFlag.ack ? this.next[other(side)] : 0,
      flags,
      window: flags & TcpFlag.rst ? 0 : WINDOW,
      payload,
    });
    const consumed = payload.byteLength + (flags & (TcpFlag.syn | TcpFlag.fin) ? 1 : 0);
    this.next[side] = (this.next[side] + consumed) % 2 ** 32;
    return packet;
  }

  private emit(blocks: readonly Uint8Array[]): Uint8Array {
    const total = blocks.reduce((sum, block) => sum + block.byteLength, 0);
    const out = new Uint8Array(total);
    let offset = 0;
    for (const block of blocks) {
      out.set(block, offset);
      offset += block.byteLength;
    }
    this.written += total;
    return out;
  }
}

const other = (side: Side): Side => (side === "client" ? "target" : "client");

function limitComment(text: string): string {
  return text.length > MAX_COMMENT_CHARS ? `${text.slice(0, MAX_COMMENT_CHARS)}…` : text;
}
