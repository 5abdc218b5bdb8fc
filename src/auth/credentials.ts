import type { TicketPins, TicketVerifier } from "./tickets.ts";
import type { TokenSet } from "./tokens.ts";

export type CredentialResult =
  /** No credential is configured, so none is needed. */
  | { readonly ok: true; readonly kind: "anonymous" }
  | { readonly ok: true; readonly kind: "token" }
  | { readonly ok: true; readonly kind: "ticket"; readonly pins: TicketPins }
  /** `reason` is safe to log: it never contains the credential. */
  | { readonly ok: false; readonly reason: string };

/** A credential that passed; what it narrows, if it is a ticket. */
export type Grant = Extract<CredentialResult, { ok: true }>;

export interface CredentialCheck {
  /** True when tokens or tickets are configured. */
  readonly required: boolean;
  check(presented: string | undefined): Promise<CredentialResult>;
}

export interface CredentialSources {
  readonly tokens?: TokenSet;
  readonly tickets?: TicketVerifier;
}

const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]*$/;

export function createCredentialCheck({ tokens, tickets }: CredentialSources): CredentialCheck {
  const required = (tokens !== undefined && tokens.size > 0) || tickets !== undefined;
  return {
    required,
    async check(presented) {
      if (!required) return { ok: true, kind: "anonymous" };
      if (presented === undefined || presented === "") {
        return { ok: false, reason: "a credential is required" };
      }
      if (tokens?.matches(presented)) return { ok: true, kind: "token" };
      if (tickets !== undefined && COMPACT_JWS.test(presented)) {
        const result = await tickets.verify(presented);
        if (result.ok) return { ok: true, kind: "ticket", pins: result.pins };
        return { ok: false, reason: `ticket rejected (${result.failure}): ${result.reason}` };
      }
      return { ok: false, reason: "the credential is not valid" };
    },
  };
}

export type BearerCredential =
  | { readonly kind: "absent" }
  | { readonly kind: "bearer"; readonly credential: string }
  /** A header is present but is not `Bearer <token>`: refuse rather than ignore it. */
  | { readonly kind: "malformed" };

/** Reads `Authorization: Bearer <token>` (RFC 6750; the scheme is case-insensitive). */
export function bearerFromAuthorization(header: string | null | undefined): BearerCredential {
  if (header === null || header === undefined) return { kind: "absent" };
  const match = /^bearer +([\x21-\x7e]+) *$/i.exec(header);
  const credential = match?.[1];
  return credential === undefined ? { kind: "malformed" } : { kind: "bearer", credential };
}

/** Whether a ticket's `protocols` claim, if any, lets its holder use this adapter. */
export function protocolAllowed(pins: TicketPins | undefined, protocol: string): boolean {
  return pins?.protocols === undefined || pins.protocols.includes(protocol);
}
