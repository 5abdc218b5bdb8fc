import { isIPv4, isIPv6 } from "node:net";
import ipaddr from "ipaddr.js";
import { invalidHandshake } from "../protocol/errors.ts";

export type TargetHost =
  | { readonly kind: "ip"; readonly address: string; readonly family: 4 | 6 }
  | { readonly kind: "name"; readonly name: string };

const IP_LIKE = /^[0-9.]+$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

/**
 * Classifies a `target_ip` per the protocol: strict IP literals (embedded IPv4 normalised to it),
 * or an RFC 1123 host name. Numeric-looking strings that are not canonical literals are refused
 * here so that they can never reach a resolver.
 */
export function parseTargetHost(text: string): TargetHost {
  if (IP_LIKE.test(text)) {
    if (!isIPv4(text)) throw invalidHandshake(`target_ip "${text}" is not a valid IPv4 address`);
    return { kind: "ip", address: text, family: 4 };
  }
  if (text.includes(":")) {
    if (text.includes("%") || !isIPv6(text)) {
      throw invalidHandshake(
        `target_ip "${text}" is not a valid IPv6 address (no brackets, no zone)`,
      );
    }
    return normaliseIPv6(text);
  }
  if (!isHostName(text))
    throw invalidHandshake(`target_ip "${text}" is neither an IP address nor a valid host name`);
  return { kind: "name", name: text };
}

function normaliseIPv6(text: string): TargetHost {
  const address = ipaddr.IPv6.parse(text);
  if (address.isIPv4MappedAddress()) {
    return { kind: "ip", address: address.toIPv4Address().toString(), family: 4 };
  }
  return { kind: "ip", address: address.toString(), family: 6 };
}

function isHostName(text: string): boolean {
  const name = text.endsWith(".") ? text.slice(0, -1) : text;
  if (name.length === 0 || name.length > 253) return false;
  return name.split(".").every((label) => LABEL.test(label));
}
