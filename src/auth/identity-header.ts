import type { Principal } from "./principal.ts";

/** Longest principal name a header may give: longer values are refused as names. */
const MAX_NAME = 256;

/**
 * `--identity-header`: a front proxy that authenticated the user (oauth2-proxy, Cloudflare Access)
 * names them in a header. Only a peer in `--trust-proxy` is believed; from any other peer the
 * header could be the client's own invention, so it is ignored (and logged once).
 */
export interface IdentityHeader {
  /** The header's name, lower case. */
  readonly header: string;
  /** Whether the direct peer is a trusted proxy. */
  readonly trusted: (peer: string) => boolean;
}

export type IdentityOutcome =
  | { readonly kind: "none" }
  | { readonly kind: "named"; readonly principal: Principal }
  /** The header came from a peer that is not trusted: ignored. */
  | { readonly kind: "untrusted" };

export function identityFromHeader(
  identity: IdentityHeader | undefined,
  headers: Headers,
  peer: string,
): IdentityOutcome {
  if (identity === undefined) return { kind: "none" };
  const value = headers.get(identity.header)?.trim();
  if (value === undefined || value === "" || value.length > MAX_NAME) return { kind: "none" };
  if (!identity.trusted(peer)) return { kind: "untrusted" };
  return { kind: "named", principal: { name: value, source: "header" } };
}
