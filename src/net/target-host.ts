import { invalidHandshake } from "../protocol/errors.ts";
import { parseAddress } from "./address.ts";
import { normaliseHostName } from "./host-name.ts";

export type TargetHost =
  | { readonly kind: "ip"; readonly address: string; readonly family: 4 | 6 }
  | { readonly kind: "name"; readonly name: string };

const IP_LIKE = /^[0-9.]+$/;
/**
 * A last label that is a number (`1`, `0x7f`): URL parsers and inet_aton read such a name as an
 * IPv4 address in another notation (`0x7f.0.0.1`, `127.0x1`), and no top-level domain is numeric.
 */
const NUMERIC_LAST_LABEL = /(^|\.)(0x[0-9a-f]*|[0-9]+)\.?$/i;

/**
 * Classifies a `target_ip` per the protocol: strict IP literals, normalised the one way the
 * policy also uses (src/net/address.ts), or an RFC 1123 host name. Numeric-looking strings that
 * are not canonical literals are refused here so that they can never reach a resolver.
 */
export function parseTargetHost(text: string): TargetHost {
  if (IP_LIKE.test(text) || text.includes(":")) {
    const address = parseAddress(text);
    if (address === null) {
      throw invalidHandshake(
        IP_LIKE.test(text)
          ? `target_ip "${text}" is not a valid IPv4 address`
          : `target_ip "${text}" is not a valid IPv6 address (no brackets, no zone)`,
      );
    }
    return { kind: "ip", address: address.toString(), family: address.kind() === "ipv4" ? 4 : 6 };
  }
  if (NUMERIC_LAST_LABEL.test(text))
    throw invalidHandshake(`target_ip "${text}" looks like an IPv4 address in a non-standard form`);
  // Kept as written (trailing dot and case included): the policy and resolver normalise it.
  if (normaliseHostName(text) === null)
    throw invalidHandshake(`target_ip "${text}" is neither an IP address nor a valid host name`);
  return { kind: "name", name: text };
}
