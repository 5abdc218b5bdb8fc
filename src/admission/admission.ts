import type {
  AnyProtocolAdapter,
  Location,
  TargetConnection,
  TargetEvents,
} from "../adapters/types.ts";
import { settingsOf } from "../auth/access-rules.ts";
import {
  bearerFromAuthorization,
  type CredentialCheck,
  credentialFailure,
  type Grant,
} from "../auth/credentials.ts";
import { type IdentityHeader, identityFromHeader } from "../auth/identity-header.ts";
import type { OriginCheck } from "../auth/origin.ts";
import { ANONYMOUS as NOBODY, type Principal } from "../auth/principal.ts";
import { fields, type Logger } from "../log/logger.ts";
import type { RefusalReason } from "../metrics/labels.ts";
import type { ClientAddressResolver } from "../net/client-address.ts";
import { formatHostPort } from "../net/host-port.ts";
import {
  type ProxyProtocolSetting,
  type ProxyProtocolVersion,
  proxyHeader,
  versionOf,
} from "../net/proxy-protocol.ts";
import type { Resolver } from "../net/resolver.ts";
import type { Policy } from "../policy/policy.ts";
import { CloseReason } from "../protocol/constants.ts";
import { ProxyError } from "../protocol/errors.ts";
import { checkedLocations, grantFor } from "./access.ts";
import { connectWithin } from "./connect.ts";
import type { Lease, PrincipalAccess, RuleRefusal } from "./principal-access.ts";
import { Refusal } from "./refusal.ts";
import type { Slot, Slots } from "./slots.ts";

/** Who is connecting, as admission established it. */
export interface ClientInfo {
  /** For logs: the address, with the port when it is the socket's own peer. */
  readonly label: string;
  /** The address limits count against (X-Forwarded-For only through a trusted proxy). */
  readonly address: string;
  /** The peer's port when `address` is the direct peer, else 0. */
  readonly port: number;
}

/** A connection admission let in: it holds a slot until everything it opened is closed. */
export interface Entrant {
  readonly client: ClientInfo;
  /** The credential an Authorization header or the upgrade URL proved; undefined: none yet. */
  readonly grant: Grant | undefined;
  /** The principal a trusted front proxy named (`--identity-header`); it outranks the credential's. */
  readonly identity?: Principal | undefined;
  readonly slot: Slot;
}

/** A connection admission stopped, and who it was. */
export interface Turned {
  readonly refusal: Refusal;
  readonly client: ClientInfo;
}

/** A target to reach, as a front end learned it. */
export interface ReachRequest {
  readonly adapter: AnyProtocolAdapter;
  /** The adapter's own target (from its `parse`). */
  readonly target: unknown;
  readonly grant: Grant | undefined;
  /** A credential that came with the target (the handshake's `token`). */
  readonly token: string | undefined;
  /**
   * A PROXY protocol header for this target (a route, a token file entry, a ticket naming its
   * target, an access rule): wins over the ticket's `proxy_protocol` claim and the server default.
   */
  readonly proxyProtocol?: ProxyProtocolSetting | undefined;
  /** The client a PROXY protocol header names (unknown without it: v1 UNKNOWN, v2 AF_UNSPEC). */
  readonly client?: ClientInfo | undefined;
  /** The session a PROXY protocol v2 header names (PP2_TYPE_UNIQUE_ID), as the log line does. */
  readonly sessionId?: number | undefined;
  /** The front end the session came in by (access rules may restrict it). */
  readonly frontEnd: string;
  /** The entrant's identity-header principal, if any. */
  readonly identity?: Principal | undefined;
  /** Told the principal as soon as it is known, so that a refused session's log line names it. */
  readonly identified?: ((principal: Principal) => void) | undefined;
}

/** A target reached: open, at a location the policy passed. */
export interface Reached {
  readonly connection: TargetConnection;
  readonly location: Location;
  /** The credential the target was reached with (the upgrade's, or the handshake's token), with its principal. */
  readonly grant: Grant;
  /** The principal's rule, held until the session is released (it must call `lease.release()`). */
  readonly lease: Lease;
}

export interface AdmissionDeps {
  readonly origin: OriginCheck;
  readonly credentials: CredentialCheck;
  readonly clientAddress: ClientAddressResolver;
  readonly slots: Slots;
  readonly policy: Policy;
  readonly resolver: Resolver;
  /** Seconds to open a target (`--connect-timeout`). */
  readonly connectTimeout: number;
  /** `--proxy-protocol`: the header every target gets unless its own setting says otherwise. */
  readonly proxyProtocol?: ProxyProtocolVersion | undefined;
  /** False once shutting down. */
  readonly accepting: () => boolean;
  readonly logger: Logger;
  /** The access file's rules per principal. */
  readonly access: PrincipalAccess;
  /** `--identity-header` and the peers it is believed from. */
  readonly identity?: IdentityHeader | undefined;
  /** Counts a session refused once its principal was known (metrics). */
  readonly principalRefused?: (principal: string, reason: RefusalReason) => void;
}

const ANONYMOUS: Grant = { ok: true, kind: "anonymous", principal: NOBODY };

/** The principal a session goes by: a trusted proxy's header, else its credential's, else anonymous. */
export function principalOf(grant: Grant | undefined, identity: Principal | undefined): Principal {
  return identity ?? grant?.principal ?? NOBODY;
}

function ruleRefusal(refused: RuleRefusal): Refusal {
  switch (refused.kind) {
    case "front_end":
    case "protocol":
      return new Refusal("forbidden", "not allowed for this principal", refused.reason);
    case "max_sessions":
      return new Refusal("principal_limit", CloseReason.principalLimit, refused.reason);
    case "rate":
      return new Refusal("rate_limit", CloseReason.rateLimited, refused.reason);
    case "revoked":
      return new Refusal("forbidden", "this principal's sessions are suspended", refused.reason);
    case "unavailable":
      return new Refusal("state_unavailable", CloseReason.stateUnavailable, refused.reason);
  }
}

/** Refusals that are told by upgrading and closing (so a browser can read them), not over HTTP. */
const TOLD_AFTER_UPGRADE: ReadonlySet<Refusal["code"]> = new Set([
  "rate_limit",
  "capacity",
  "per_ip",
  "state_unavailable",
  "principal_limit",
  "shutdown",
]);

/** Whether a refusal before the upgrade is told as a close code rather than an HTTP status. */
export const toldAfterUpgrade = (refusal: Refusal): boolean => TOLD_AFTER_UPGRADE.has(refusal.code);

/**
 * The one way in, for every front end, in one order: client address (--trust-proxy) → Origin →
 * rate limit → capacity and per-address slot → credential (`enter`); then, once a front end knows
 * the target: grant and policy → resolve once → connect within the timeout (`reach`). The Host
 * header is checked by the HTTP routes before any of this (a request without one has no URL).
 */
export interface Admission {
  readonly credentials: CredentialCheck;
  enter(
    request: Request,
    peer: { readonly address: string; readonly port: number } | null,
    /** A credential the upgrade URL carries (a route's `?token=`, a Wisp path segment). */
    urlCredential: string | undefined,
  ): Promise<Entrant | Turned>;
  /** One more stream on an admitted connection (Wisp): it takes from the rate limit as an upgrade does. */
  stream(client: ClientInfo): Refusal | undefined;
  /** Grant and policy, resolution once, then the connection; throws a Refusal. */
  reach(request: ReachRequest, events: TargetEvents, abort: AbortController): Promise<Reached>;
}

export function createAdmission(deps: AdmissionDeps): Admission {
  const { logger } = deps;
  /** A header from an untrusted peer is logged once: a client may send it on every upgrade. */
  let untrustedLogged = false;
  const turned = (refusal: Refusal, client: ClientInfo): Turned => {
    const level = refusal.code === "rate_limit" || refusal.code === "per_ip" ? "debug" : "info";
    logger[level](
      `refused upgrade from ${client.label}: ${refusal.logReason}`,
      fields({ client: client.label, reason: refusal.row.metric, error: refusal.logReason }),
    );
    return { refusal, client };
  };

  return {
    credentials: deps.credentials,

    async enter(request, peer, urlCredential) {
      const client = clientOf(request, peer, deps.clientAddress);
      if (!deps.accepting())
        return { refusal: new Refusal("shutdown", CloseReason.shuttingDown), client };
      const origin = deps.origin(request.headers.get("origin"), request.url);
      if (!origin.allowed) return turned(new Refusal("origin", origin.reason), client);
      // A rate token is taken before any credential is verified, so guessing them is limited too.
      const taken = deps.slots.take(client.address);
      const slot = taken instanceof Promise ? await taken : taken;
      if (slot instanceof Refusal) return turned(slot, client);
      // Without configured credentials the header is someone else's business (a proxy's Basic auth).
      const grant = deps.credentials.required
        ? await credentialOf(request, urlCredential, deps.credentials)
        : ANONYMOUS;
      if (grant instanceof Refusal) {
        slot.release();
        return turned(grant, client);
      }
      const named = identityFromHeader(deps.identity, request.headers, peer?.address ?? "");
      if (named.kind === "untrusted" && !untrustedLogged) {
        untrustedLogged = true;
        logger.warn(
          `ignored ${deps.identity?.header} from ${client.label}: not a --trust-proxy peer (logged once)`,
        );
      }
      if (named.kind !== "named") return { client, grant, slot };
      const identity = named.principal;
      return { client, grant: grant && { ...grant, principal: identity }, identity, slot };
    },

    stream: (client) => deps.slots.stream(client.address),

    async reach(request, events, abort) {
      const { adapter, target, grant, token, frontEnd, identity, identified } = request;
      let lease: Lease | undefined;
      let principal: Principal | undefined;
      try {
        // Each step answers at once when it can (a proved credential, an IP literal): an await
        // only for what is pending, so a session's set-up is not one suspension per step.
        const granting = grantFor(deps.credentials, grant, token);
        const credential = granting instanceof Promise ? await granting : granting;
        principal = principalOf(credential, identity);
        identified?.(principal);
        const proved: Grant = { ...credential, principal };
        const admitting = deps.access.admit(principal, frontEnd, adapter.name);
        const admitted = admitting instanceof Promise ? await admitting : admitting;
        if (!admitted.ok) throw ruleRefusal(admitted);
        lease = admitted.lease;
        // The target's own setting (route, token file) first, then the principal's rule.
        const ruled = request.proxyProtocol ?? settingsOf(admitted.choice).proxyProtocol;
        const header = proxyHeaderFor(request, ruled, proved, deps.proxyProtocol);
        const checking = checkedLocations(admitted.policy, deps.resolver, proved, adapter, target);
        const locations = checking instanceof Promise ? await checking : checking;
        let location: Location | undefined;
        const connection = await connectWithin(
          deps.connectTimeout,
          locations,
          (candidate, signal) => {
            location = candidate;
            const opener = adapter as {
              open(
                request: {
                  target: unknown;
                  location: Location;
                  signal: AbortSignal;
                  preamble: Uint8Array | undefined;
                },
                events: TargetEvents,
              ): Promise<TargetConnection>;
            };
            const preamble = header?.(candidate);
            return opener.open({ target, location: candidate, signal, preamble }, events);
          },
          abort,
        );
        const opened = location as Location;
        const deniedSince = lease.opened({
          protocol: adapter.name,
          host: adapter.endpoint === "network" ? adapter.locate(target).host : undefined,
          location: opened,
        });
        if (deniedSince !== undefined) {
          // The rules were reloaded while it opened, and now deny it: as if they had been first.
          connection.destroy();
          throw new Refusal("forbidden", "not allowed for this principal", deniedSince);
        }
        return { connection, location: opened, grant: proved, lease };
      } catch (error) {
        lease?.release();
        const refusal = error instanceof ProxyError ? Refusal.of(error) : error;
        if (refusal instanceof Refusal && principal !== undefined) {
          deps.principalRefused?.(principal.name, refusal.row.metric);
        }
        throw refusal;
      }
    },
  };
}

/**
 * The PROXY protocol header each candidate location gets, if one is configured: the target's own
 * setting (`ruled`: its route or token file entry, else its principal's rule), else the ticket's
 * claim, else the server default. Only byte streams can carry it.
 */
function proxyHeaderFor(
  request: ReachRequest,
  ruled: ProxyProtocolSetting | undefined,
  grant: Grant,
  serverDefault: ProxyProtocolVersion | undefined,
): ((location: Location) => Uint8Array) | undefined {
  const claimed = grant.kind === "ticket" ? grant.pins.proxyProtocol : undefined;
  const version = versionOf(ruled ?? claimed ?? serverDefault);
  if (version === undefined) return undefined;
  const { adapter, target, client, sessionId } = request;
  if (adapter.transport !== "stream") {
    throw new Refusal(
      "unsupported_protocol",
      `a PROXY protocol header is configured for this session, and ${adapter.name} targets cannot take one`,
    );
  }
  const source = client ? { address: client.address, port: client.port } : undefined;
  const authority = adapter.endpoint === "network" ? adapter.locate(target).host : undefined;
  const uniqueId = sessionId === undefined ? undefined : String(sessionId);
  return (location) =>
    proxyHeader(version, {
      source,
      destination: location.kind === "network" ? location : undefined,
      authority,
      uniqueId,
    });
}

function clientOf(
  request: Request,
  peer: { readonly address: string; readonly port: number } | null,
  resolve: ClientAddressResolver,
): ClientInfo {
  const peerAddress = peer?.address ?? "unknown";
  const direct = resolve(peerAddress);
  const forwardedFor = request.headers.get("x-forwarded-for");
  const address = forwardedFor ? resolve(peerAddress, forwardedFor) : direct;
  const isPeer = peer !== null && address === direct;
  return {
    address,
    label: isPeer ? formatHostPort(address, peer.port) : address,
    port: isPeer ? peer.port : 0,
  };
}

/**
 * The credential the upgrade brings: an Authorization header first (a malformed one is refused,
 * not ignored), else one in the URL. None at all is not refused here: a handshake or a Wisp INFO
 * may still bring one, and the front end or `reach` refuses when none comes.
 */
async function credentialOf(
  request: Request,
  urlCredential: string | undefined,
  credentials: CredentialCheck,
): Promise<Grant | undefined | Refusal> {
  const bearer = bearerFromAuthorization(request.headers.get("authorization"));
  if (bearer.kind === "malformed") {
    const failure = credentialFailure(
      "malformed_header",
      "the Authorization header is not Bearer <credential>",
    );
    return new Refusal("unauthorized", failure.clientReason, failure.reason);
  }
  const presented = bearer.kind === "bearer" ? bearer.credential : urlCredential;
  if (presented === undefined) return undefined;
  const result = await credentials.check(presented);
  // The client hears the failure's class (none given, expired…); the log gets the precise reason.
  return result.ok ? result : new Refusal("unauthorized", result.clientReason, result.reason);
}
