/**
 * Synthetic IPv4/IPv6 packets carrying TCP segments or UDP datagrams, with every checksum
 * computed, so a capture reads as if taken on the wire. Browser-safe: no `node:` imports.
 */

export const IP_PROTOCOL_TCP = 6;
export const IP_PROTOCOL_UDP = 17;

export const TcpFlag = { fin: 0x01, syn: 0x02, rst: 0x04, psh: 0x08, ack: 0x10 } as const;

/** The largest TCP payload one IPv4 packet can carry: 65,535 − 20 (IP) − 20 (TCP). */
export const MAX_TCP_PAYLOAD = 65_495;
/** The largest UDP payload one IPv4 packet can carry: 65,535 − 20 (IP) − 8 (UDP). */
export const MAX_UDP_PAYLOAD = 65_507;

const TCP_HEADER_BYTES = 20;
const UDP_HEADER_BYTES = 8;
const TTL = 64;

export interface Addresses {
  /** 4 bytes (IPv4) or 16 (IPv6); both of one packet have the same length. */
  readonly source: Uint8Array;
  readonly destination: Uint8Array;
  readonly sourcePort: number;
  readonly destinationPort: number;
}

export interface TcpSegment extends Addresses {
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
  readonly window: number;
  readonly payload: Uint8Array;
}

export function tcpPacket(segment: TcpSegment): Uint8Array {
  const length = TCP_HEADER_BYTES + segment.payload.byteLength;
  const tcp = new Uint8Array(length);
  const view = new DataView(tcp.buffer);
  view.setUint16(0, segment.sourcePort);
  view.setUint16(2, segment.destinationPort);
  view.setUint32(4, segment.seq >>> 0);
  view.setUint32(8, segment.ack >>> 0);
  view.setUint8(12, (TCP_HEADER_BYTES / 4) << 4);
  view.setUint8(13, segment.flags);
  view.setUint16(14, segment.window);
  tcp.set(segment.payload, TCP_HEADER_BYTES);
  view.setUint16(16, transportChecksum(segment, IP_PROTOCOL_TCP, tcp));
  return ipPacket(segment, IP_PROTOCOL_TCP, tcp);
}

export function udpPacket(addresses: Addresses, payload: Uint8Array): Uint8Array {
  const length = UDP_HEADER_BYTES + payload.byteLength;
  const udp = new Uint8Array(length);
  const view = new DataView(udp.buffer);
  view.setUint16(0, addresses.sourcePort);
  view.setUint16(2, addresses.destinationPort);
  view.setUint16(4, length);
  udp.set(payload, UDP_HEADER_BYTES);
  // In UDP a computed 0 is sent as 0xFFFF: 0 means "no checksum".
  view.setUint16(6, transportChecksum(addresses, IP_PROTOCOL_UDP, udp) || 0xffff);
  return ipPacket(addresses, IP_PROTOCOL_UDP, udp);
}

let identification = 0;

function ipPacket(addresses: Addresses, protocol: number, body: Uint8Array): Uint8Array {
  if (addresses.source.byteLength === 4) {
    const packet = new Uint8Array(20 + body.byteLength);
    const view = new DataView(packet.buffer);
    view.setUint8(0, 0x45);
    view.setUint16(2, packet.byteLength);
    identification = (identification + 1) & 0xffff;
    view.setUint16(4, identification);
    view.setUint16(6, 0x4000); // don't fragment
    view.setUint8(8, TTL);
    view.setUint8(9, protocol);
    packet.set(addresses.source, 12);
    packet.set(addresses.destination, 16);
    view.setUint16(10, checksum([packet.subarray(0, 20)]));
    packet.set(body, 20);
    return packet;
  }
  const packet = new Uint8Array(40 + body.byteLength);
  const view = new DataView(packet.buffer);
  view.setUint32(0, 0x6000_0000);
  view.setUint16(4, body.byteLength);
  view.setUint8(6, protocol);
  view.setUint8(7, TTL);
  packet.set(addresses.source, 8);
  packet.set(addresses.destination, 24);
  packet.set(body, 40);
  return packet;
}

/** TCP/UDP checksum over the IPv4 or IPv6 pseudo-header and the segment (checksum field 0). */
function transportChecksum(addresses: Addresses, protocol: number, segment: Uint8Array): number {
  const pseudo = new Uint8Array(addresses.source.byteLength === 4 ? 12 : 40);
  const view = new DataView(pseudo.buffer);
  pseudo.set(addresses.source, 0);
  pseudo.set(addresses.destination, addresses.source.byteLength);
  if (pseudo.byteLength === 12) {
    view.setUint8(9, protocol);
    view.setUint16(10, segment.byteLength);
  } else {
    view.setUint32(32, segment.byteLength);
    view.setUint8(39, protocol);
  }
  return checksum([pseudo, segment]);
}

/** The Internet checksum (RFC 1071) of the parts taken as one byte string (each even-length but the last). */
export function checksum(parts: readonly Uint8Array[]): number {
  let sum = 0;
  for (const part of parts) {
    const even = part.byteLength & ~1;
    for (let i = 0; i < even; i += 2) sum += ((part[i] as number) << 8) | (part[i + 1] as number);
    if (part.byteLength & 1) sum += (part[even] as number) << 8;
  }
  // Plain numbers stay exact far past any packet's sum; fold with arithmetic, not 32-bit ops.
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}
