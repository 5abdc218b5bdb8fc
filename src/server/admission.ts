import {
  bearerFromAuthorization,
  type CredentialCheck,
  credentialFailure,
  type Grant,
} from "../auth/credentials.ts";
import type { OriginCheck } from "../auth/origin.ts";
import type { RateLimiter } from "../limits/rate-limit.ts";
import { fields, type Logger } from "../log/logger.ts";
import type { RefusalReason } from "../metrics/metrics.ts";
import type { ClientAddressResolver } from "../net/client-address.ts";
import { formatHostPort } from "../net/host-port.ts";
import { CloseCode, CloseReason } from "../protocol/constants.ts";
import { textResponse } from "./responses.ts";

/** Why a connection is refused: the metric's reason, decided where the refusal is. */
export interface Refusal {
  readonly reason: RefusalReason;
  /** The close code and reason for a refusal after the upgrade. */
  readonly closeCode: number;
  readonly closeReason: string;
}

/** What the upgrade decided about a connection it lets through. */
export interface Admitted {
  readonly kind: "admitted";
  /** For logs: the client's address (X-Forwarded-For only through a trusted proxy). */
  readonly clientLabel: string;
  /** The address limits count against, before ipKey groups IPv6 by /64. */
  readonly clientAddress: string;
  readonly grant: Grant | undefined;
  /** Set when the upgrade goes ahead only to close at once with 1013 (like capacity). */
  readonly refusal: Refusal | undefined;
}

/** An upgrade refused with an HTTP answer. */
export interface Rejected {
  readonly kind: "rejected";
  readonly response: Response;
  readonly reason: RefusalReason;
}

export interface AdmissionDeps {
  readonly origin: OriginCheck;
  readonly credentials: CredentialCheck;
  readonly clientAddress: ClientAddressResolver;
  readonly rateLimiter: RateLimiter | undefined;
  readonly keyOf: (address: string) => string;
  readonly logger: Logger;
}

/**
 * The checks made before the upgrade, cheapest first: Origin (403), the handshake rate (a token
 * is taken before any credential is verified, so guessing credentials is rate limited too), then
 * an Authorization header (401). Returns the refusal, or what the session needs.
 */
export async function admit(
  request: Request,
  peer: { address: string; port: number } | null,
  deps: AdmissionDeps,
): Promise<Admitted | Rejected> {
  const peerAddress = peer?.address ?? "unknown";
  const direct = deps.clientAddress(peerAddress);
  const forwardedFor = request.headers.get("x-forwarded-for");
  const clientAddress = forwardedFor ? deps.clientAddress(peerAddress, forwardedFor) : direct;
  const clientLabel =
    peer && clientAddress === direct ? formatHostPort(clientAddress, peer.port) : clientAddress;

  const origin = deps.origin(request.headers.get("origin"));
  if (!origin.allowed) {
    deps.logger.info(
      `refused upgrade from ${clientLabel}: ${origin.reason}`,
      fields({ client: clientLabel, reason: "origin", error: origin.reason }),
    );
    return {
      kind: "rejected",
      response: textResponse(`403 Forbidden: ${origin.reason}`, 403),
      reason: "origin",
    };
  }

  const rate = deps.rateLimiter?.take(deps.keyOf(clientAddress));
  if (rate && !rate.allowed) {
    deps.logger.debug(
      `rate limited upgrade from ${clientLabel}`,
      fields({ client: clientLabel, reason: "rate_limit" }),
    );
    const refusal: Refusal = {
      reason: "rate_limit",
      closeCode: CloseCode.tryAgainLater,
      closeReason: CloseReason.rateLimited,
    };
    return { kind: "admitted", clientLabel, clientAddress, grant: undefined, refusal };
  }

  const bearer = bearerFromAuthorization(request.headers.get("authorization"));
  let grant: Grant | undefined;
  // Without configured credentials the header is someone else's business (a proxy's Basic auth).
  if (deps.credentials.required && bearer.kind !== "absent") {
    const result =
      bearer.kind === "bearer"
        ? await deps.credentials.check(bearer.credential)
        : credentialFailure(
            "malformed_header",
            "the Authorization header is not Bearer <credential>",
          );
    if (!result.ok) {
      deps.logger.info(
        `refused upgrade from ${clientLabel}: ${result.reason}`,
        fields({ client: clientLabel, reason: "credential", error: result.reason }),
      );
      return {
        kind: "rejected",
        response: textResponse(`401 Unauthorized: ${result.clientReason}`, 401, {
          "www-authenticate": 'Bearer realm="socket2web"',
        }),
        reason: "credential",
      };
    }
    grant = result;
  }
  return { kind: "admitted", clientLabel, clientAddress, grant, refusal: undefined };
}
