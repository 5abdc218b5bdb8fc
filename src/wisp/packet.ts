// The Wisp packet format (MercuryWorkshop's wisp-protocol, v1 and v2): a type byte, a
// little-endian uint32 stream id, then a payload whose layout depends on the type.

export const PacketType = {
  connect: 0x01,
  data: 0x02,
  continue: 0x03,
  close: 0x04,
  info: 0x05,
} as const;
export type PacketType = (typeof PacketType)[keyof typeof PacketType];

export const StreamType = { tcp: 0x01, udp: 0x02 } as const;
export type StreamKind = keyof typeof StreamType;

/** Type byte, then the stream id. */
export const HEADER_BYTES = 5;
/**
 * The largest DATA payload read: one stream's byte window (1 MiB), so that a stream that stops
 * being read at its window holds at most twice that. A bigger message closes the connection.
 */
export const MAX_DATA_BYTES = 1024 * 1024;
/** The largest Wisp message the server reads, of any type. */
export const MAX_PACKET_BYTES = HEADER_BYTES + MAX_DATA_BYTES;
/** Stream type, then the port; the host name fills the rest. */
const CONNECT_FIXED_BYTES = 3;
const CONTINUE_BYTES = 4;
const CLOSE_BYTES = 1;
/** Major and minor version; the extension records fill the rest. */
const INFO_FIXED_BYTES = 2;
/** Extension id, then the length of its payload. */
const EXTENSION_HEADER_BYTES = 5;
/**
 * The largest INFO payload read. A client's INFO carries a few extension records (the password
 * extension's token or ticket is the largest); a bigger one is refused before any record is read.
 */
export const MAX_INFO_BYTES = 16 * 1024;
/** Extension records read from one INFO: wisp-protocol v2 defines five. */
export const MAX_EXTENSIONS = 32;

export interface Extension {
  readonly id: number;
  readonly payload: Uint8Array;
}

export type Packet =
  | {
      readonly type: "connect";
      readonly streamId: number;
      /** The stream type byte as sent: 0x01 TCP, 0x02 UDP, anything else is the caller's to refuse. */
      readonly streamType: number;
      readonly port: number;
      readonly host: string;
    }
  | { readonly type: "data"; readonly streamId: number; readonly payload: Uint8Array }
  | { readonly type: "continue"; readonly streamId: number; readonly bufferRemaining: number }
  | { readonly type: "close"; readonly streamId: number; readonly reason: number }
  | {
      readonly type: "info";
      readonly streamId: number;
      readonly major: number;
      readonly minor: number;
      /** The extension records as sent, read only when needed (`readExtensions`). */
      readonly extensionBytes: Uint8Array;
    };

/**
 * A packet that cannot be decoded. `streamId` is set when the header was whole, so the caller can
 * refuse just that stream; without it the framing itself is broken.
 */
export class WispPacketError extends Error {
  override readonly name = "WispPacketError";
  constructor(
    message: string,
    readonly streamId?: number,
  ) {
    super(message);
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

// Header and fixed fields are read and written byte by byte: a DataView per packet costs an
// object, and asking a typed array for its `.buffer` costs an ArrayBuffer object too (profiled
// on the stream-open path, where every packet is small).

function readUint32(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at] as number) | ((bytes[at + 1] as number) << 8) | ((bytes[at + 2] as number) << 16)) +
    (bytes[at + 3] as number) * 0x1000000
  );
}

function writeUint32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = (value >>> 8) & 0xff;
  bytes[at + 2] = (value >>> 16) & 0xff;
  bytes[at + 3] = (value >>> 24) & 0xff;
}

function need(payloadBytes: number, streamId: number, name: string, size: number, exact: boolean) {
  if (exact ? payloadBytes !== size : payloadBytes < size) {
    throw new WispPacketError(
      `${name} payload must be ${exact ? "" : "at least "}${size} bytes, got ${payloadBytes}`,
      streamId,
    );
  }
}

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, "0")}`;
}

/**
 * Decodes one WebSocket message as one packet; throws WispPacketError saying what is wrong. Fields
 * are read where they lie: a view is made only of bytes passed on (DATA's payload, a host name).
 */
export function decodePacket(bytes: Uint8Array): Packet {
  if (bytes.byteLength < HEADER_BYTES) {
    throw new WispPacketError(
      `packet of ${bytes.byteLength} bytes is shorter than the ${HEADER_BYTES}-byte header`,
    );
  }
  const type = bytes[0] as number;
  const streamId = readUint32(bytes, 1);
  const payloadBytes = bytes.byteLength - HEADER_BYTES;
  const at = HEADER_BYTES;
  switch (type) {
    case PacketType.data:
      return { type: "data", streamId, payload: bytes.subarray(at) };
    case PacketType.connect: {
      need(payloadBytes, streamId, "CONNECT", CONNECT_FIXED_BYTES, false);
      let host: string;
      try {
        host = utf8.decode(bytes.subarray(at + CONNECT_FIXED_BYTES));
      } catch {
        throw new WispPacketError("CONNECT host name is not valid UTF-8", streamId);
      }
      return {
        type: "connect",
        streamId,
        streamType: bytes[at] as number,
        port: (bytes[at + 1] as number) | ((bytes[at + 2] as number) << 8),
        host,
      };
    }
    case PacketType.continue:
      need(payloadBytes, streamId, "CONTINUE", CONTINUE_BYTES, true);
      return { type: "continue", streamId, bufferRemaining: readUint32(bytes, at) };
    case PacketType.close:
      need(payloadBytes, streamId, "CLOSE", CLOSE_BYTES, true);
      return { type: "close", streamId, reason: bytes[at] as number };
    case PacketType.info:
      need(payloadBytes, streamId, "INFO", INFO_FIXED_BYTES, false);
      if (payloadBytes > MAX_INFO_BYTES) {
        throw new WispPacketError(
          `INFO payload of ${payloadBytes} bytes exceeds ${MAX_INFO_BYTES}`,
          streamId,
        );
      }
      return {
        type: "info",
        streamId,
        major: bytes[at] as number,
        minor: bytes[at + 1] as number,
        extensionBytes: bytes.subarray(at + INFO_FIXED_BYTES),
      };
    default:
      throw new WispPacketError(`unknown packet type ${hex(type)}`, streamId);
  }
}

/**
 * Reads an INFO packet's extension records; throws WispPacketError for records cut short or more
 * than MAX_EXTENSIONS of them (reading stops there: the work is bounded whatever was sent).
 */
export function readExtensions(bytes: Uint8Array, streamId = 0): Extension[] {
  const extensions: Extension[] = [];
  const fields = view(bytes);
  let offset = 0;
  while (offset < bytes.byteLength) {
    if (extensions.length === MAX_EXTENSIONS) {
      throw new WispPacketError(`INFO has more than ${MAX_EXTENSIONS} extension records`, streamId);
    }
    if (bytes.byteLength - offset < EXTENSION_HEADER_BYTES) {
      throw new WispPacketError(
        `INFO extension record at byte ${offset} is cut short (${bytes.byteLength - offset} of ${EXTENSION_HEADER_BYTES} header bytes)`,
        streamId,
      );
    }
    const id = fields.getUint8(offset);
    const length = fields.getUint32(offset + 1, true);
    const start = offset + EXTENSION_HEADER_BYTES;
    if (length > bytes.byteLength - start) {
      throw new WispPacketError(
        `INFO extension ${hex(id)} claims ${length} bytes but only ${bytes.byteLength - start} follow`,
        streamId,
      );
    }
    extensions.push({ id, payload: bytes.subarray(start, start + length) });
    offset = start + length;
  }
  return extensions;
}

function header(bytes: Uint8Array, type: PacketType, streamId: number): void {
  bytes[0] = type;
  writeUint32(bytes, 1, streamId);
}

function packet(type: PacketType, streamId: number, payloadBytes: number): [Uint8Array, DataView] {
  // Every byte is written below: zero-filling first costs as much as the copy (profiled).
  const bytes = Buffer.allocUnsafe(HEADER_BYTES + payloadBytes);
  header(bytes, type, streamId);
  return [bytes, view(bytes)];
}

/** A packet of `payloadBytes` after the header, its fields written by the caller. */
function smallPacket(type: PacketType, streamId: number, payloadBytes: number): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES + payloadBytes);
  header(bytes, type, streamId);
  return bytes;
}

/**
 * DATA packets built in one buffer that every call reuses, for a sender that is done with the
 * packet when its send returns: Bun's WebSocket `sendBinary` writes what the socket takes and
 * copies the rest into its own queue (encoder.test.ts proves it). No allocation per packet, and
 * the copy lands in memory that is already mapped and hot: a fresh 50 KiB buffer per packet cost
 * more in page faults than the copy itself (profiled, docs/benchmarks/ANALYSIS.md). Payloads larger
 * than SCRATCH_MOST get a buffer of their own, so the scratch stays small.
 */
export class DataEncoder {
  private scratch = Buffer.allocUnsafe(0);

  /** The packet, valid until the next call: send it at once, never keep it. */
  encode(streamId: number, payload: Uint8Array): Uint8Array {
    const size = HEADER_BYTES + payload.byteLength;
    if (size > SCRATCH_MOST) return encodeData(streamId, payload);
    if (this.scratch.byteLength < size) {
      this.scratch = Buffer.allocUnsafe(Math.max(size, SCRATCH_MOST / 4));
    }
    header(this.scratch, PacketType.data, streamId);
    this.scratch.set(payload, HEADER_BYTES);
    return this.scratch.subarray(0, size);
  }
}

/**
 * The largest packet DataEncoder builds in its scratch buffer; a process has one (sharedEncoder).
 * Bun reads a socket up to 512 KiB at a time, and a busy target gives reads that large (most
 * DATA packets of a full stream are 256–512 KiB, traced in docs/benchmarks/ANALYSIS.md): the
 * scratch takes the largest packet the server reads of a client, so every target read fits.
 */
const SCRATCH_MOST = MAX_PACKET_BYTES;

/** One encoder for the process: sends are synchronous, so streams of every connection share it. */
export const sharedEncoder = new DataEncoder();

/** One copy of the payload: a WebSocket message is one buffer. */
export function encodeData(streamId: number, payload: Uint8Array): Uint8Array {
  const [bytes] = packet(PacketType.data, streamId, payload.byteLength);
  bytes.set(payload, HEADER_BYTES);
  return bytes;
}

export function encodeContinue(streamId: number, bufferRemaining: number): Uint8Array {
  const bytes = smallPacket(PacketType.continue, streamId, CONTINUE_BYTES);
  writeUint32(bytes, HEADER_BYTES, bufferRemaining);
  return bytes;
}

export function encodeClose(streamId: number, reason: number): Uint8Array {
  const bytes = smallPacket(PacketType.close, streamId, CLOSE_BYTES);
  bytes[HEADER_BYTES] = reason;
  return bytes;
}

export function encodeConnect(
  streamId: number,
  streamType: number,
  port: number,
  host: string,
): Uint8Array {
  const name = utf8Encoder.encode(host);
  const [bytes, fields] = packet(
    PacketType.connect,
    streamId,
    CONNECT_FIXED_BYTES + name.byteLength,
  );
  fields.setUint8(HEADER_BYTES, streamType);
  fields.setUint16(HEADER_BYTES + 1, port, true);
  bytes.set(name, HEADER_BYTES + CONNECT_FIXED_BYTES);
  return bytes;
}

export function encodeInfo(
  major: number,
  minor: number,
  extensions: readonly Extension[],
): Uint8Array {
  const size = extensions.reduce(
    (sum, e) => sum + EXTENSION_HEADER_BYTES + e.payload.byteLength,
    0,
  );
  const [bytes, fields] = packet(PacketType.info, 0, INFO_FIXED_BYTES + size);
  fields.setUint8(HEADER_BYTES, major);
  fields.setUint8(HEADER_BYTES + 1, minor);
  let offset = HEADER_BYTES + INFO_FIXED_BYTES;
  for (const extension of extensions) {
    fields.setUint8(offset, extension.id);
    fields.setUint32(offset + 1, extension.payload.byteLength, true);
    bytes.set(extension.payload, offset + EXTENSION_HEADER_BYTES);
    offset += EXTENSION_HEADER_BYTES + extension.payload.byteLength;
  }
  return bytes;
}

export function streamKind(streamType: number): StreamKind | undefined {
  if (streamType === StreamType.tcp) return "tcp";
  if (streamType === StreamType.udp) return "udp";
  return undefined;
}
