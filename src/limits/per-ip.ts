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
