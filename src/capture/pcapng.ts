/**
 * pcapng blocks (the IETF "PCAP Now Generic" format Wireshark writes): section header,
 * interface description and enhanced packet blocks, little-endian, with comments as options.
 * Browser-safe: no `node:` imports.
 */

const BLOCK_SECTION_HEADER = 0x0a0d0d0a;
const BLOCK_INTERFACE = 0x0000_0001;
const BLOCK_ENHANCED_PACKET = 0x0000_0006;
const BLOCK_INTERFACE_STATISTICS = 0x0000_0005;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const OPTION_END = 0;
const OPTION_COMMENT = 1;
const SHB_USER_APPLICATION = 4;
const IF_NAME = 2;

/** LINKTYPE_RAW: each packet starts with its IPv4 or IPv6 header (the version says which). */
export const LINKTYPE_RAW = 101;

/** Block overhead of one enhanced packet block without options: 28 bytes of fields + 4 trailer. */
export const PACKET_BLOCK_OVERHEAD = 32;

const encoder = new TextEncoder();

interface Option {
  readonly code: number;
  readonly value: Uint8Array;
}

const padded = (length: number) => (length + 3) & ~3;

function optionsLength(options: readonly Option[]): number {
  if (options.length === 0) return 0;
  return options.reduce((sum, option) => sum + 4 + padded(option.value.byteLength), 4);
}

function writeOptions(view: DataView, offset: number, options: readonly Option[]): void {
  if (options.length === 0) return;
  const bytes = new Uint8Array(view.buffer, view.byteOffset);
  for (const option of options) {
    view.setUint16(offset, option.code, true);
    view.setUint16(offset + 2, option.value.byteLength, true);
    bytes.set(option.value, offset + 4);
    offset += 4 + padded(option.value.byteLength);
  }
  view.setUint16(offset, OPTION_END, true);
  view.setUint16(offset + 2, 0, true);
}

/** A block: type, total length, `body` bytes of fields, options, total length again. */
function block(
  type: number,
  bodyLength: number,
  options: readonly Option[],
  fill: (view: DataView, bytes: Uint8Array) => void,
): Uint8Array {
  const total = 12 + padded(bodyLength) + optionsLength(options);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, total, true);
  fill(new DataView(bytes.buffer, 8), bytes.subarray(8));
  writeOptions(view, 8 + padded(bodyLength), options);
  view.setUint32(total - 4, total, true);
  return bytes;
}

function textOptions(code: number, texts: readonly (string | undefined)[]): Option[] {
  return texts
    .filter((text): text is string => text !== undefined && text !== "")
    .map((text) => ({ code, value: encoder.encode(text) }));
}

export function sectionHeaderBlock(application: string, comments: readonly string[]): Uint8Array {
  const options = [
    ...textOptions(SHB_USER_APPLICATION, [application]),
    ...textOptions(OPTION_COMMENT, comments),
  ];
  return block(BLOCK_SECTION_HEADER, 16, options, (view) => {
    view.setUint32(0, BYTE_ORDER_MAGIC, true);
    view.setUint16(4, 1, true);
    view.setUint16(6, 0, true);
    // Section length unknown: -1.
    view.setBigInt64(8, -1n, true);
  });
}

export function interfaceBlock(linkType: number, name: string): Uint8Array {
  return block(BLOCK_INTERFACE, 8, textOptions(IF_NAME, [name]), (view) => {
    view.setUint16(0, linkType, true);
    view.setUint16(2, 0, true);
    view.setUint32(4, 0, true); // no snapshot length limit
  });
}

/** One packet on interface 0 at `micros` (microseconds since 1970, the default resolution). */
export function packetBlock(
  packet: Uint8Array,
  micros: number,
  comments: readonly string[] = [],
): Uint8Array {
  return block(
    BLOCK_ENHANCED_PACKET,
    20 + packet.byteLength,
    textOptions(OPTION_COMMENT, comments),
    (view, bytes) => {
      view.setUint32(0, 0, true);
      view.setUint32(4, Math.floor(micros / 2 ** 32), true);
      view.setUint32(8, micros % 2 ** 32, true);
      view.setUint32(12, packet.byteLength, true);
      view.setUint32(16, packet.byteLength, true);
      bytes.set(packet, 20);
    },
  );
}

/** The bytes a packet block of this size and these comments takes, before building it. */
export function packetBlockLength(packetLength: number, comments: readonly string[] = []): number {
  return 12 + padded(20 + packetLength) + optionsLength(textOptions(OPTION_COMMENT, comments));
}

/**
 * An interface statistics block: the place for a comment that belongs to no packet (a UDP
 * session that ended before any datagram).
 */
export function statisticsBlock(micros: number, comments: readonly string[]): Uint8Array {
  return block(BLOCK_INTERFACE_STATISTICS, 12, textOptions(OPTION_COMMENT, comments), (view) => {
    view.setUint32(0, 0, true);
    view.setUint32(4, Math.floor(micros / 2 ** 32), true);
    view.setUint32(8, micros % 2 ** 32, true);
  });
}
