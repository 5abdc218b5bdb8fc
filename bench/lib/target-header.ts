// The 16-byte header a bench client sends first on every target connection. It picks
// what the target does, so one target port serves every workload (websockify and
// socat relay to one fixed address).
//   bytes 0-3  "S2WB"
//   byte  4    mode: 1 echo, 2 sink, 3 source
//   bytes 8-15 length, u64 little endian (sink: bytes to expect; source: bytes to send)

export const HEADER_BYTES = 16;
const MAGIC = 0x42573253; // "S2WB" read as little-endian u32

export const TargetMode = { echo: 1, sink: 2, source: 3 } as const;
export type TargetMode = (typeof TargetMode)[keyof typeof TargetMode];

/** Sink acknowledgements are u64 byte counts, sent at least this often (in bytes). */
export const ACK_EVERY = 256 * 1024;
export const ACK_BYTES = 8;
export const DIGEST_BYTES = 32;

export function encodeHeader(mode: TargetMode, length: number): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint8(4, mode);
  view.setBigUint64(8, BigInt(length), true);
  return bytes;
}

export function decodeHeader(bytes: Uint8Array): { mode: TargetMode; length: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  if (view.getUint32(0, true) !== MAGIC) throw new Error("bad bench header magic");
  const mode = view.getUint8(4);
  if (mode !== 1 && mode !== 2 && mode !== 3) throw new Error(`bad bench mode ${mode}`);
  return { mode, length: Number(view.getBigUint64(8, true)) };
}

export function encodeAck(count: number): Uint8Array {
  const bytes = new Uint8Array(ACK_BYTES);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(count), true);
  return bytes;
}

/** A connection's progress through its header, shared by the TCP target and ws-ceiling. */
export interface HeaderState {
  header: Uint8Array;
  headerFill: number;
  mode: TargetMode | 0;
  length: number;
}

/**
 * Feeds bytes into the header; once it is complete, sets `mode` and `length` and returns the mode
 * and the bytes after the header (possibly none). Returns undefined while it is incomplete.
 */
export function takeHeader(
  state: HeaderState,
  bytes: Uint8Array,
): { mode: TargetMode; rest: Uint8Array } | undefined {
  const take = Math.min(HEADER_BYTES - state.headerFill, bytes.byteLength);
  state.header.set(bytes.subarray(0, take), state.headerFill);
  state.headerFill += take;
  if (state.headerFill < HEADER_BYTES) return undefined;
  const header = decodeHeader(state.header);
  state.mode = header.mode;
  state.length = header.length;
  return { mode: header.mode, rest: bytes.subarray(take) };
}
