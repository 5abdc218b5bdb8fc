import { ANONYMOUS, type Principal } from "./principal.ts";
import type { ReplayGuard } from "./replay.ts";
import { ticketPrincipal } from "./ticket-principal.ts";
import type { TicketFailure, TicketPins, TicketVerifier } from "./tickets.ts";
import type { TokenSet } from "./tokens.ts";

/** Why a credential was refused, as a class the client may be told. */
export type CredentialFailureClass =
  /** None was presented where one is required. */
  | "missing"
  /** Not a configured token, and not a ticket either. */
  | "not_valid"
  /** An Authorization header that is not `Bearer <credential>`. */
  | "malformed_header"
  /** A single-use ticket that was used before (or carries no `jti` to tell). */
  | "replayed"
  /** A single-use ticket the replay guard has no room to remember: refused, not let through. */
  | "replay_full"
  | TicketFailure;

/**
 * A refused credential. `reason` is for the log (it may name claims and rules); `clientReason`
 * is what the client is told: the class in words, never the credential, and short enough for a
 * WebSocket close reason (123 bytes).
 */
export interface CredentialFailure {
  readonly ok: false;
  readonly failure: CredentialFailureClass;
  readonly reason: string;
  readonly clientReason: string;
}

export type CredentialResult =
  /** No credential is configured, so none is needed. */
  | { readonly ok: true; readonly kind: "anonymous"; readonly principal?: Principal }
  | { readonly ok: true; readonly kind: "token"; readonly principal?: Principal }
  | {
      readonly ok: true;
      readonly kind: "ticket";
      readonly pins: TicketPins;
      readonly principal?: Principal;
    }
  | CredentialFailure;

/** What each class tells the client, after "a valid credential is required: ". */
const CLIENT_WORDS: Readonly<Record<CredentialFailureClass, string>> = {
  missing: "none was given",
  not_valid: "the one given is not valid",
  malformed_header: "the Authorization header is not Bearer <credential>",
  malformed: "the ticket is malformed",
  unsupported_alg: "the ticket's algorithm is not accepted",
  bad_signature: "the ticket's signature does not verify",
  expired: "the ticket has expired",
  not_yet_valid: "the ticket is not valid yet",
  wrong_audience: "the ticket is for another audience",
  wrong_issuer: "the ticket is from another issuer",
  invalid_claims: "the ticket's claims are not valid",
  unknown_key: "the ticket's key is not known",
  replayed: "the ticket was already used",
  replay_full: "too many tickets are in use; try again later",
};

export function credentialFailure(
  failure: CredentialFailureClass,
  reason: string,
): CredentialFailure {
  return {
    ok: false,
    failure,
    reason,
    clientReason: `a valid credential is required: ${CLIENT_WORDS[failure]}`,
  };
}

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
  /** Tickets that may be used once only (`--ticket-single-use`, or an access rule's). */
  readonly singleUse?: SingleUse;
}

export interface SingleUse {
  readonly guard: ReplayGuard;
  /**
   * Why this ticket's holder must use it once only (`--ticket-single-use`, or the access rule
   * that says so, asked at each ticket); undefined: it may reuse it.
   */
  readonly reason: (principal: Principal) => string | undefined;
}

const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]*$/;

export function createCredentialCheck({
  tokens,
  tickets,
  singleUse,
}: CredentialSources): CredentialCheck {
  const required = (tokens !== undefined && tokens.size > 0) || tickets !== undefined;
  return {
    required,
    async check(presented) {
      if (!required) return { ok: true, kind: "anonymous", principal: ANONYMOUS };
      if (presented === undefined || presented === "") {
        return credentialFailure("missing", "a credential is required");
      }
      const name = tokens?.nameOf(presented);
      if (name !== undefined)
        return { ok: true, kind: "token", principal: { name, source: "token" } };
      if (tickets !== undefined && COMPACT_JWS.test(presented)) {
        const result = await tickets.verify(presented);
        if (!result.ok) {
          return credentialFailure(
            result.failure,
            `ticket rejected (${result.failure}): ${result.reason}`,
          );
        }
        const principal = ticketPrincipal(result.claims, presented);
        const singleUseBy = singleUse?.reason(principal);
        if (singleUse && singleUseBy !== undefined) {
          const refused = await claimOnce(singleUse.guard, result.claims, singleUseBy);
          if (refused) return refused;
        }
        return { ok: true, kind: "ticket", pins: result.pins, principal };
      }
      return credentialFailure("not_valid", "the credential is not valid");
    },
  };
}

/** Refuses a single-use ticket without `jti` or `exp`, or one whose `jti` was claimed before. */
async function claimOnce(
  guard: ReplayGuard,
  claims: { readonly jti?: unknown; readonly exp?: unknown },
  by: string,
): Promise<CredentialFailure | undefined> {
  const { jti, exp } = claims;
  if (typeof jti !== "string" || jti === "" || jti.length > MAX_JTI_LENGTH) {
    return credentialFailure(
      "invalid_claims",
      `ticket rejected (invalid_claims): a single-use ticket needs a jti of 1 to ${MAX_JTI_LENGTH} characters (single use by ${by})`,
    );
  }
  if (typeof exp !== "number") {
    // `exp` bounds how long the id is remembered: without it, it would be forever.
    return credentialFailure(
      "invalid_claims",
      `ticket rejected (invalid_claims): a single-use ticket needs exp (single use by ${by})`,
    );
  }
  const claim = await guard.claim(jti, exp * 1000);
  if (claim === "replayed") {
    return credentialFailure(
      "replayed",
      `ticket rejected (replayed): its jti was used before (single use by ${by})`,
    );
  }
  if (claim === "full") {
    return credentialFailure(
      "replay_full",
      "ticket rejected (replay_full): the single-use guard remembers as many tickets as it may",
    );
  }
  return undefined;
}

/** Bounds the memory one remembered ticket id takes. */
const MAX_JTI_LENGTH = 256;

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
