import type { ProtocolAdapter } from "../adapters/types.ts";
import type { CredentialCheck, Grant } from "../auth/credentials.ts";
import type { RefusalReason } from "../metrics/metrics.ts";
import { formatHostPort } from "../net/host-port.ts";
import type { Resolver } from "../net/resolver.ts";
import type { Policy } from "../policy/policy.ts";
import { ProxyError } from "../protocol/errors.ts";
import { AccessDenied, checkedAddresses, grantFor } from "../session/access.ts";
import type { Selection } from "../session/selection.ts";
import { type OpenedTarget, openBeforeUpgrade } from "./opened-target.ts";
import type { FixedTarget } from "./target-text.ts";
import type { FixedTargets, UpgradeKind } from "./upgrade-kind.ts";

export interface RawSessionDeps {
  readonly targets: FixedTargets;
  readonly credentials: CredentialCheck;
  readonly policy: Policy;
  readonly resolver: Resolver;
  /** The adapter raw sessions use: a websockify target is a TCP port. */
  readonly tcp: ProtocolAdapter;
  readonly connectTimeout: number;
}

/** A raw session ready to start: its target is open, its selection hands it over. */
export interface RawSessionReady {
  readonly ok: true;
  readonly selection: Selection;
  readonly grant: Grant;
  readonly opened: OpenedTarget;
}

/** Refused before the upgrade: the HTTP status, the metric's reason, and what the log says. */
export interface RawSessionRefused {
  readonly ok: false;
  readonly status: 401 | 403 | 404 | 502 | 504;
  readonly reason: RefusalReason;
  /** For the client; says no more than the status does about credentials. */
  readonly message: string;
  /** For the log: the precise reason, never a credential. */
  readonly log: string;
}

type RawKind = Extract<UpgradeKind, { kind: "raw" }>;

const refused = (
  status: RawSessionRefused["status"],
  reason: RefusalReason,
  message: string,
  log: string,
): RawSessionRefused => ({ ok: false, status, reason, message, log });

/**
 * Everything a raw session needs before the upgrade, in the order a handshake session does it:
 * which target (404), the credential (401), the policy on every resolved address (403), then
 * the connection itself (502, 504), so that each refusal is an HTTP status the client sees.
 */
export async function prepareRawSession(
  kind: RawKind,
  headerGrant: Grant | undefined,
  deps: RawSessionDeps,
): Promise<RawSessionReady | RawSessionRefused> {
  const chosen = await targetAndGrant(kind, headerGrant, deps);
  if (!chosen.ok) return chosen;
  const { target, grant } = chosen;
  const where = formatHostPort(target.host, target.port);
  let addresses: readonly string[];
  try {
    addresses = await checkedAddresses(deps.policy, deps.resolver, grant, deps.tcp.name, target);
  } catch (error) {
    if (error instanceof AccessDenied) {
      return refused(403, "forbidden", `${where} is not allowed`, `${where}: ${error.logReason}`);
    }
    if (error instanceof ProxyError) {
      return refused(
        502,
        "connect_failed",
        `${where}: ${error.message}`,
        `${where}: ${error.message}`,
      );
    }
    throw error;
  }
  let opened: OpenedTarget;
  try {
    // The adapter's own target, as a handshake naming the same host and port would give it.
    const adapterTarget = deps.tcp.parse({ target_ip: target.host, target_port: target.port });
    opened = await openBeforeUpgrade(deps.tcp, adapterTarget, addresses, deps.connectTimeout);
  } catch (error) {
    if (error instanceof ProxyError && error.code === "connect_timeout") {
      return refused(
        504,
        "connect_timeout",
        `${where}: ${error.message}`,
        `${where}: ${error.message}`,
      );
    }
    if (error instanceof ProxyError) {
      return refused(
        502,
        "connect_failed",
        `${where}: ${error.message}`,
        `${where}: ${error.message}`,
      );
    }
    throw error;
  }
  const selection: Selection = {
    adapter: opened.adapter(),
    target,
    echo: {},
    token: undefined,
  };
  return { ok: true, selection, grant: checkedGrant(grant), opened };
}

/**
 * The grant the session gets: the ticket's `allow` pins were applied above to the target as
 * written (a name, with every address it resolved to); the session checks again only the
 * address already connected to, which a name-only pin would wrongly refuse.
 */
function checkedGrant(grant: Grant): Grant {
  if (grant.kind !== "ticket" || grant.pins.allow === undefined) return grant;
  const { allow: _applied, ...pins } = grant.pins;
  return { ...grant, pins };
}

async function targetAndGrant(
  kind: RawKind,
  headerGrant: Grant | undefined,
  deps: RawSessionDeps,
): Promise<{ ok: true; target: FixedTarget; grant: Grant } | RawSessionRefused> {
  const { credentials, targets } = deps;
  if (kind.via === "route") {
    // On a route, `?token=` can only be a credential: the path already names the target.
    try {
      return {
        ok: true,
        target: kind.target,
        grant: await grantFor(credentials, headerGrant, kind.token),
      };
    } catch (error) {
      if (error instanceof AccessDenied) {
        return refused(401, "credential", error.message, `route ${kind.path}: ${error.logReason}`);
      }
      throw error;
    }
  }
  const fromFile = targets.tokens?.lookup(kind.token);
  if (fromFile) {
    // The token names the target, it proves nothing: a required credential must come in a header.
    if (headerGrant) return { ok: true, target: fromFile, grant: headerGrant };
    const anonymous = await credentials.check(undefined);
    if (anonymous.ok) return { ok: true, target: fromFile, grant: anonymous };
    return refused(
      401,
      "credential",
      anonymous.clientReason,
      "token file entry found, but a credential is required and no Authorization header was sent",
    );
  }
  if (targets.tickets) {
    const result = await credentials.check(kind.token);
    if (result.ok && result.kind === "ticket") {
      const target = result.pins.target;
      if (target) return { ok: true, target, grant: headerGrant ?? result };
      return refused(
        404,
        "unknown_target",
        "no such token",
        "the ticket names no target (claims host and port)",
      );
    }
    // A token that is not a ticket at all is an unknown token-file entry (404), not a bad ticket.
    if (!result.ok && result.failure !== "missing" && result.failure !== "not_valid") {
      return refused(401, "credential", result.clientReason, result.reason);
    }
  }
  return refused(404, "unknown_target", "no such token", "unknown token");
}
