import { isIPv4, isIPv6 } from "node:net";

/**
 * The PROXY protocol header a target gets before any client byte (HAProxy's proxy-protocol.txt):
 * version 1 is one line of text, version 2 a binary block that can carry TLVs.
 */
export type ProxyProtocolVersion = "v1" | "v2";
/** As configured: a version, or `off` (a route, token or ticket that overrides a server default). */
export type ProxyProtocolSetting = ProxyProtocolVersion | "off";
export const PROXY_PROTOCOL_SETTINGS: readonly ProxyProtocolSetting[] = ["v1", "v2", "off"];

/** The setting named by `text`, or undefined when it names none. */
export const proxyProtocolSetting = (text: string): ProxyProtocolSetting | undefined =>
  (PROXY_PROTOCOL_SETTINGS as readonly string[]).includes(text)
    ? (text as ProxyProtocolSetting)
    : undefined;

/** The version a setting asks for; `off` and unset send nothing. */
export const versionOf = (
  setting: ProxyProtocolSetting | undefined,
): ProxyProtocolVersion | undefined => (setting === "off" ? undefined : setting);

export interface ProxyEndpoint {
  readonly address: string;
  readonly port: number;
}

export interface ProxyHeaderFields {
  /** The client; undefined (or not an IP address) when it is not known. */
  readonly source: ProxyEndpoint | undefined;
  /** The address the proxy connected to; undefined for a target that has none (a Unix socket). */
  readonly destination: ProxyEndpoint | undefined;
  /** v2 only: PP2_TYPE_AUTHORITY, the target name the client asked for. */
  readonly authority?: string | undefined;
  /** v2 only: PP2_TYPE_UNIQUE_ID, at most 128 bytes (the session id). */
  readonly uniqueId?: string | undefined;
}

export const V2_SIGNATURE = Uint8Array.of(
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
);
/** Version 2 in the high nibble, command PROXY (the connection is relayed) in the low one. */
const V2_PROXY_COMMAND = 0x21;
const FAMILY = { unspec: 0x00, tcp4: 0x11, tcp6: 0x21 } as const;
export const PP2_TYPE_AUTHORITY = 0x02;
export const PP2_TYPE_UNIQUE_ID = 0x05;
/** The specification's bound on PP2_TYPE_UNIQUE_ID. */
const MAX_UNIQUE_ID_BYTES = 128;

type Bytes = Uint8Array<ArrayBuffer>;

interface Endpoints {
  readonly family: 4 | 6;
  readonly source: Bytes;
  readonly destination: Bytes;
  readonly sourcePort: number;
  readonly destinationPort: number;
}

/**
 * Both ends in one family, as both versions require. A client and a target of different families
 * (an IPv6 client, an IPv4 target) are both written as IPv6, the IPv4 one IPv4-mapped
 * (::ffff:a.b.c.d): the client's address still reaches the target, where `UNKNOWN` would lose it.
 * A target without an address (a Unix socket) is written as the unspecified address of the
 * client's family, port 0. An unknown client gives undefined (v1 UNKNOWN, v2 AF_UNSPEC).
 */
function endpoints({ source, destination }: ProxyHeaderFields): Endpoints | undefined {
  const from = source && ipBytes(source.address);
  if (!source || !from) return undefined;
  const to = destination ? ipBytes(destination.address) : new Uint8Array(from.length);
  if (!to) return undefined;
  const family = from.length === 4 && to.length === 4 ? 4 : 6;
  return {
    family,
    source: family === 6 ? mapped(from) : from,
    destination: family === 6 ? mapped(to) : to,
    sourcePort: source.port,
    destinationPort: destination ? destination.port : 0,
  };
}

/** Version 1: `PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n`, or `PROXY UNKNOWN\r\n`. */
export function proxyHeaderV1(fields: ProxyHeaderFields): Bytes {
  const ends = endpoints(fields);
  const line = ends
    ? `PROXY TCP${ends.family} ${formatIp(ends.source)} ${formatIp(ends.destination)} ${ends.sourcePort} ${ends.destinationPort}\r\n`
    : "PROXY UNKNOWN\r\n";
  return new TextEncoder().encode(line);
}

/**
 * Version 2: signature, PROXY command, TCP over IPv4 or IPv6 (AF_UNSPEC when the client is not
 * known), the addresses and ports, then the TLVs: authority and unique id.
 */
export function proxyHeaderV2(fields: ProxyHeaderFields): Bytes {
  const ends = endpoints(fields);
  const tlvs: Bytes[] = [];
  const encoder = new TextEncoder();
  if (fields.authority) tlvs.push(tlv(PP2_TYPE_AUTHORITY, encoder.encode(fields.authority)));
  if (fields.uniqueId !== undefined) {
    const id = encoder.encode(fields.uniqueId);
    if (id.length > MAX_UNIQUE_ID_BYTES) {
      throw new RangeError(`a PROXY protocol unique id holds at most ${MAX_UNIQUE_ID_BYTES} bytes`);
    }
    tlvs.push(tlv(PP2_TYPE_UNIQUE_ID, id));
  }
  const addresses = ends ? addressBlock(ends) : new Uint8Array(0);
  const length = addresses.length + tlvs.reduce((sum, part) => sum + part.length, 0);
  const header = new Uint8Array(16 + length);
  header.set(V2_SIGNATURE, 0);
  header[12] = V2_PROXY_COMMAND;
  header[13] = ends ? (ends.family === 4 ? FAMILY.tcp4 : FAMILY.tcp6) : FAMILY.unspec;
  new DataView(header.buffer).setUint16(14, length);
  let offset = 16;
  for (const part of [addresses, ...tlvs]) {
    header.set(part, offset);
    offset += part.length;
  }
  return header;
}

export function proxyHeader(version: ProxyProtocolVersion, fields: ProxyHeaderFields): Bytes {
  return version === "v1" ? proxyHeaderV1(fields) : proxyHeaderV2(fields);
}

function addressBlock(ends: Endpoints): Bytes {
  const size = ends.source.length;
  const block = new Uint8Array(size * 2 + 4);
  block.set(ends.source, 0);
  block.set(ends.destination, size);
  const view = new DataView(block.buffer);
  view.setUint16(size * 2, ends.sourcePort);
  view.setUint16(size * 2 + 2, ends.destinationPort);
  return block;
}

function tlv(type: number, value: Uint8Array): Bytes {
  if (value.length > 0xffff) throw new RangeError("a PROXY protocol TLV holds at most 65535 bytes");
  const out = new Uint8Array(3 + value.length);
  out[0] = type;
  new DataView(out.buffer).setUint16(1, value.length);
  out.set(value, 3);
  return out;
}

/** 4 or 16 bytes; an IPv4-mapped IPv6 address is its IPv4 address; undefined if not an IP. */
export function ipBytes(text: string): Bytes | undefined {
  const address = text.replace(/%.*$/, "");
  if (isIPv4(address)) return Uint8Array.from(address.split(".").map(Number));
  if (!isIPv6(address)) return undefined;
  const bytes = ipv6Bytes(address);
  const isMapped =
    bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return isMapped ? bytes.slice(12) : bytes;
}

/** A valid IPv6 text (isIPv6 said so) as 16 bytes: `::` expanded, a dotted IPv4 tail included. */
function ipv6Bytes(address: string): Bytes {
  // A dotted tail (::ffff:1.2.3.4) is two groups written another way.
  const text = address.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_all, a, b, c, d) =>
    [(Number(a) << 8) | Number(b), (Number(c) << 8) | Number(d)]
      .map((group) => group.toString(16))
      .join(":"),
  );
  const groupsOf = (part: string) =>
    part === "" ? [] : part.split(":").map((group) => Number.parseInt(group, 16));
  const [head = "", tail] = text.split("::");
  const front = groupsOf(head);
  const back = tail === undefined ? [] : groupsOf(tail);
  const groups = [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    bytes[index * 2] = group >> 8;
    bytes[index * 2 + 1] = group & 0xff;
  });
  return bytes;
}

/** IPv4 → ::ffff:a.b.c.d; IPv6 unchanged. */
function mapped(bytes: Bytes): Bytes {
  if (bytes.length === 16) return bytes;
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(bytes, 12);
  return out;
}

/**
 * Dotted decimal, or IPv6 as the specification asks: groups of hex digits, the longest run of two
 * or more zero groups as `::` (RFC 5952), no dotted tail.
 */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join(".");
  const groups: number[] = [];
  for (let index = 0; index < 16; index += 2)
    groups.push(((bytes[index] ?? 0) << 8) | (bytes[index + 1] ?? 0));
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; ) {
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end === start ? start + 1 : end;
  }
  const hex = (list: number[]) => list.map((group) => group.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}
