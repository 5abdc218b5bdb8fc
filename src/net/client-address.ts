import {
  type AddressRange,
  AddressRangeError,
  parseAddress,
  parseAddressRange,
  rangeContains,
} from "./address.ts";

export class TrustProxyError extends Error {
  override readonly name = "TrustProxyError";
  constructor(
    readonly range: string,
    problem: string,
  ) {
    super(`invalid --trust-proxy "${range}": ${problem}`);
  }
}

/** The client's address: normalised, or the peer text unchanged if it is not an IP. */
export type ClientAddressResolver = (peer: string, forwardedFor?: string | null) => string;

/**
 * X-Forwarded-For is believed only hop by hop from the right: each entry was appended by the
 * hop to its right, so it is trusted only while that hop is a trusted proxy. The first
 * address not in a trusted range is the client. An entry that is not an address stops the
 * walk at the proxy that wrote it.
 */
export function createClientAddressResolver(trusted: readonly string[]): ClientAddressResolver {
  const ranges = trustedRanges(trusted);

  return (peer, forwardedFor) => {
    const peerAddress = parseAddress(peer);
    if (peerAddress === null) return peer;
    let current = peerAddress;
    const isTrusted = () => ranges.some((range) => rangeContains(range, current));
    if (!isTrusted() || !forwardedFor) return current.toString();
    const hops = forwardedFor.split(",");
    for (let index = hops.length - 1; index >= 0; index--) {
      const hop = parseAddress(stripPort(hops[index]?.trim() ?? ""));
      if (hop === null) return current.toString();
      current = hop;
      if (!isTrusted()) return current.toString();
    }
    // Every hop was a trusted proxy: the left-most is as far as the chain goes.
    return current.toString();
  };
}

function trustedRanges(trusted: readonly string[]): AddressRange[] {
  return trusted.map((text) => {
    try {
      return parseAddressRange(text);
    } catch (error) {
      if (error instanceof AddressRangeError) throw new TrustProxyError(text, error.message);
      throw error;
    }
  });
}

/** Whether the direct peer is a trusted proxy (`--trust-proxy`): only its headers are believed. */
export type PeerTrust = (peer: string) => boolean;

export function createPeerTrust(trusted: readonly string[]): PeerTrust {
  const ranges = trustedRanges(trusted);
  return (peer) => {
    const address = parseAddress(peer);
    return address !== null && ranges.some((range) => rangeContains(range, address));
  };
}

/** Some proxies append a port: `203.0.113.7:5123`, `[2001:db8::1]:5123`. */
function stripPort(entry: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(entry);
  if (bracketed?.[1] !== undefined) return bracketed[1];
  const v4WithPort = /^([\d.]+):\d+$/.exec(entry);
  return v4WithPort?.[1] ?? entry;
}
