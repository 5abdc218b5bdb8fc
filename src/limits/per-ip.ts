import ipaddr from "ipaddr.js";
import { parseAddress } from "../net/address.ts";

/**
 * The key that limits count against: the normalised IPv4 address, or the /64 network of an
 * IPv6 address, since one IPv6 host usually holds a whole /64 and could rotate through it.
 */
export function ipKey(address: string): string {
  const parsed = parseAddress(address);
  if (parsed === null) return address;
  if (parsed.kind() === "ipv4") return parsed.toString();
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${parsed.toString()}/64`).toString()}/64`;
}

/** Gives a connection slot back; calling it again does nothing. */
export type Release = () => void;

export interface ConnectionCounter {
  /** A release function, or null when the key already holds its maximum. */
  tryAcquire(key: string): Release | null;
  count(key: string): number;
  /** Keys with at least one connection; memory is bounded by open connections. */
  readonly size: number;
}

export function createConnectionCounter(maxPerKey: number): ConnectionCounter {
  if (!Number.isInteger(maxPerKey) || maxPerKey < 1) {
    throw new RangeError("connections per IP must be a whole number >= 1");
  }
  const counts = new Map<string, number>();
  return {
    get size() {
      return counts.size;
    },
    count(key) {
      return counts.get(key) ?? 0;
    },
    tryAcquire(key) {
      const current = counts.get(key) ?? 0;
      if (current >= maxPerKey) return null;
      counts.set(key, current + 1);
      let released = false;
      return () => {
        // A double release would let a client exceed its limit, so it is ignored.
        if (released) return;
        released = true;
        const left = (counts.get(key) ?? 1) - 1;
        if (left <= 0) counts.delete(key);
        else counts.set(key, left);
      };
    },
  };
}
