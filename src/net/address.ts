import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/** A CIDR range, already normalised: IPv4-mapped ranges are stored as IPv4. */
export interface AddressRange {
  readonly address: IpAddress;
  readonly prefix: number;
}

/**
 * Parses an IP literal strictly and normalises it: IPv4-mapped (`::ffff:127.0.0.1`,
 * `::ffff:7f00:1`) and IPv4-compatible (`::127.0.0.1`) forms become the IPv4 address they
 * carry, since that is where a connection to them ends up or the shape an attacker uses to
 * slip past an IPv4 rule. `::` and `::1` stay IPv6: they are not IPv4-compatible addresses.
 *
 * Only four-part dotted decimal IPv4 is accepted (`127.1`, `0177.0.0.1`, `0x7f.0.0.1` are
 * not), and no IPv6 zone. Returns null for anything else.
 */
export function parseAddress(text: string): IpAddress | null {
  const known = recentAddresses.get(text);
  if (known) return known;
  const parsed = parseUncached(text);
  if (parsed) {
    if (recentAddresses.size >= RECENT_ADDRESSES) recentAddresses.clear();
    recentAddresses.set(text, parsed);
  }
  return parsed;
}

/**
 * Literals parsed lately, each with its address (never mutated once parsed). A session's target
 * literal is read three times on its way in (the handshake's field, the resolution, the policy),
 * and a proxy's clients mostly reach a few targets. Only valid literals are kept (a few dozen
 * characters each), and the whole map is dropped when full: bounded whatever clients send.
 */
const recentAddresses = new Map<string, IpAddress>();
const RECENT_ADDRESSES = 256;

function parseUncached(text: string): IpAddress | null {
  const family = isIP(text);
  if (family === 4) return ipaddr.IPv4.parse(text);
  if (family !== 6 || text.includes("%")) return null;
  // ipaddr.js reads `::127.0.0.1` as `::ffff:7f00:1` and `::ffff:0177.0.0.1` as decimal, so
  // the WHATWG URL parser canonicalises first (pure hex groups); ipaddr.js then reads that.
  let canonical: string;
  try {
    canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
  return unwrapIPv4(ipaddr.IPv6.parse(canonical));
}

/** Canonical text of an IP literal (see parseAddress), or null when it is not one. */
export function normaliseAddress(text: string): string | null {
  return parseAddress(text)?.toString() ?? null;
}

function unwrapIPv4(address: ipaddr.IPv6): IpAddress {
  if (address.isIPv4MappedAddress()) return address.toIPv4Address();
  if (isIPv4Compatible(address)) return ipv4FromLow32(address);
  return address;
}

function highBitsZero(address: ipaddr.IPv6): boolean {
  return address.parts.slice(0, 6).every((part) => part === 0);
}

function isIPv4Compatible(address: ipaddr.IPv6): boolean {
  const [, , , , , , high = 0, low = 0] = address.parts;
  return highBitsZero(address) && (high !== 0 || low > 1);
}

function ipv4FromLow32(address: ipaddr.IPv6): ipaddr.IPv4 {
  const bytes = address.toByteArray().slice(12);
  return ipaddr.IPv4.parse(bytes.join("."));
}

export class AddressRangeError extends Error {
  override readonly name = "AddressRangeError";
}

/**
 * Parses `ADDRESS` or `ADDRESS/PREFIX` (no brackets). IPv4-mapped and IPv4-compatible IPv6
 * ranges of prefix 96 or more become IPv4 ranges, so they match the normalised addresses
 * they describe. A network address with host bits set is refused: it is usually a typo.
 */
export function parseAddressRange(text: string): AddressRange {
  const slash = text.indexOf("/");
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? undefined : text.slice(slash + 1);
  const family = isIP(addressText);
  if (family === 0 || addressText.includes("%")) {
    throw new AddressRangeError(
      /^[\d.]+$/.test(addressText)
        ? `"${addressText}" is not an IPv4 address (four decimal numbers 0-255, no leading zeros)`
        : `"${addressText}" is not an IP address`,
    );
  }
  const bits = family === 4 ? 32 : 128;
  let prefix = bits;
  if (prefixText !== undefined) {
    if (!/^(0|[1-9]\d{0,2})$/.test(prefixText) || Number(prefixText) > bits) {
      throw new AddressRangeError(`prefix length "/${prefixText}" must be 0 to ${bits}`);
    }
    prefix = Number(prefixText);
  }
  const raw = family === 4 ? ipaddr.IPv4.parse(addressText) : parseRawIPv6(addressText);
  const network = networkOf(raw, prefix);
  if (network.toString() !== raw.toString()) {
    throw new AddressRangeError(
      `"${text}" has host bits set; the network is ${network.toString()}/${prefix}`,
    );
  }
  return normaliseRange(network, prefix, text);
}

function parseRawIPv6(text: string): ipaddr.IPv6 {
  return ipaddr.IPv6.parse(new URL(`http://[${text}]/`).hostname.slice(1, -1));
}

function networkOf(address: IpAddress, prefix: number): IpAddress {
  const cidr = `${address.toString()}/${prefix}`;
  return address.kind() === "ipv4"
    ? ipaddr.IPv4.networkAddressFromCIDR(cidr)
    : ipaddr.IPv6.networkAddressFromCIDR(cidr);
}

function normaliseRange(network: IpAddress, prefix: number, text: string): AddressRange {
  if (network.kind() === "ipv4" || prefix < 96) return { address: network, prefix };
  const v6 = network as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return { address: v6.toIPv4Address(), prefix: prefix - 96 };
  if (!highBitsZero(v6)) return { address: v6, prefix };
  const v4 = ipv4FromLow32(v6);
  // `::` and `::1` are real IPv6 addresses; a range holding them and IPv4-compatible
  // addresses cannot be expressed once addresses are normalised.
  const holdsUnspecifiedOrLoopback = ["0.0.0.0", "0.0.0.1"].some((low) =>
    ipaddr.IPv4.parse(low).match(v4, prefix - 96),
  );
  if (!holdsUnspecifiedOrLoopback) return { address: v4, prefix: prefix - 96 };
  if (prefix === 128 || (prefix === 127 && v6.toString() === "::")) return { address: v6, prefix };
  throw new AddressRangeError(
    `"${text}" mixes :: or ::1 with IPv4-compatible addresses; write the IPv4 part as an IPv4 range`,
  );
}

export function rangeContains(range: AddressRange, address: IpAddress): boolean {
  return address.kind() === range.address.kind() && address.match(range.address, range.prefix);
}

export function formatRange(range: AddressRange): string {
  return `${range.address.toString()}/${range.prefix}`;
}

/**
 * IPv6 ranges whose addresses lead to an IPv4 host they carry, and where in the address it sits:
 * NAT64's well-known prefix (RFC 6052) and SIIT's IPv4-translated form (RFC 2765) hold it in the
 * low 32 bits, 6to4 (RFC 3056) right after its 16-bit prefix.
 */
const IPV4_CARRIERS: readonly {
  readonly prefix: ipaddr.IPv6;
  readonly bits: number;
  readonly at: number;
}[] = [
  { prefix: ipaddr.IPv6.parse("64:ff9b::"), bits: 96, at: 12 },
  { prefix: ipaddr.IPv6.parse("::ffff:0:0:0"), bits: 96, at: 12 },
  { prefix: ipaddr.IPv6.parse("2002::"), bits: 16, at: 2 },
];

/**
 * The IPv4 address an IPv6 address leads to through a translator or relay (NAT64, SIIT, 6to4),
 * or undefined for any other address: such a target must pass the policy as that IPv4 address too.
 */
export function embeddedIPv4(address: IpAddress): ipaddr.IPv4 | undefined {
  if (address.kind() !== "ipv6") return undefined;
  const v6 = address as ipaddr.IPv6;
  const carrier = IPV4_CARRIERS.find(({ prefix, bits }) => v6.match(prefix, bits));
  if (!carrier) return undefined;
  const bytes = v6.toByteArray().slice(carrier.at, carrier.at + 4);
  return new ipaddr.IPv4(bytes);
}
