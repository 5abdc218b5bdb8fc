import { bearerFromAuthorization, type CredentialCheck } from "../auth/credentials.ts";
import type { OriginCheck } from "../auth/origin.ts";
import type { RateLimiter } from "../limits/rate-limit.ts";
import type { Logger } from "../log/logger.ts";
import type { ClientAddressResolver } from "../net/client-address.ts";
import { formatHostPort } from "../net/host-port.ts";
import { CloseReason } from "../protocol/constants.ts";
import type { Grant } from "../session/access.ts";
import { textResponse } from "./responses.ts";

/** What the upgrade decided about a connection it lets through. */
export interface Admitted {
  /** For logs: the client's address (X-Forwarded-For only through a trusted proxy). */
  readonly clientLabel: string;
  /** The address limits count against, before ipKey groups IPv6 by /64. */
  readonly clientAddress: string;
  readonly grant: Grant | undefined;
  /** Set when the upgrade goes ahead only to close at once with 1013 (like capacity). */
  readonly refusal: string | undefined;
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
 * an Authorization header (401). Returns the refusal response, or what the session needs.
 */
export async function admit(
  request: Request,
  peer: { address: string; port: number } | null,
  deps: AdmissionDeps,
): Promise<Response | Admitted> {
  const peerAddress = peer?.address ?? "unknown";
  const direct = deps.clientAddress(peerAddress);
  const forwardedFor = request.headers.get("x-forwarded-for");
  const clientAddress = forwardedFor ? deps.clientAddress(peerAddress, forwardedFor) : direct;
  const clientLabel =
    peer && clientAddress === direct ? formatHostPort(clientAddress, peer.port) : clientAddress;

  const origin = deps.origin(request.headers.get("origin"));
  if (!origin.allowed) {
    deps.logger.info(`refused upgrade from ${clientLabel}: ${origin.reason}`);
    return textResponse(`403 Forbidden: ${origin.reason}`, 403);
  }

  const rate = deps.rateLimiter?.take(deps.keyOf(clientAddress));
  if (rate && !rate.allowed) {
    deps.logger.debug(`rate limited upgrade from ${clientLabel}`);
    return { clientLabel, clientAddress, grant: undefined, refusal: CloseReason.rateLimited };
  }

  const bearer = bearerFromAuthorization(request.headers.get("authorization"));
  let grant: Grant | undefined;
  // Without configured credentials the header is someone else's business (a proxy's Basic auth).
  if (deps.credentials.required && bearer.kind !== "absent") {
    const result =
      bearer.kind === "bearer"
        ? await deps.credentials.check(bearer.credential)
        : ({ ok: false, reason: "the Authorization header is not Bearer <credential>" } as const);
    if (!result.ok) {
      deps.logger.info(`refused upgrade from ${clientLabel}: ${result.reason}`);
      return textResponse("401 Unauthorized: a valid credential is required", 401, {
        "www-authenticate": 'Bearer realm="socket2web"',
      });
    }
    grant = result;
  }
  return { clientLabel, clientAddress, grant, refusal: undefined };
}
