import type { ProtocolAdapter } from "../../adapters/types.ts";
import type { Entrant } from "../../admission/admission.ts";
import { missingCredential, Refusal } from "../../admission/refusal.ts";
import type { CredentialCheck, Grant } from "../../auth/credentials.ts";
import { formatHostPort } from "../../net/host-port.ts";
import type { ProxyProtocolSetting } from "../../net/proxy-protocol.ts";
import { ProxyError } from "../../protocol/errors.ts";
import type { Selection } from "../../session/selection.ts";
import { matchWispPath } from "../../wisp/endpoint.ts";
import { defineFrontEnd, type FrontDoor, type Plan } from "../front-end.ts";
import { serveOneSession } from "../one-session.ts";
/** The one subprotocol websockify clients offer (noVNC did before 1.0; some pages still do). */
export const RAW_SUBPROTOCOL = "binary";

import type { FixedTarget } from "../../net/target-text.ts";
import type { FixedTargets } from "./fixed-targets.ts";
import { eventLatch } from "./latch.ts";

/** What a raw upgrade's URL names: a route, a token (token file or ticket), or a wsproxy target. */
export type RawClaim =
  | {
      readonly via: "route";
      readonly path: string;
      readonly target: FixedTarget;
      /** A credential in `?token=` (browsers cannot send Authorization). */
      readonly token: string | undefined;
    }
  | { readonly via: "token"; readonly token: string }
  /** wsproxy under the Wisp prefix: `PREFIX[credential/]host:port`, opened after the upgrade. */
  | {
      readonly via: "wsproxy";
      readonly target: FixedTarget;
      readonly credential: string | undefined;
    };

/**
 * websockify's raw sessions: the server fixes the target (a --route path, a --token-file token, a
 * ticket naming it, or a wsproxy URL) and bytes flow from the upgrade on, with no greeting and no
 * status. Routes, tokens and tickets open their target before the upgrade, so that every refusal
 * is an HTTP status the client sees (a browser sees no close reason of a raw session).
 */
export function rawFrontEnd(targets: FixedTargets) {
  return defineFrontEnd<RawClaim>({
    name: "raw",
    claim(url, door) {
      const query = url.searchParams;
      const route = targets.routes.get(url.pathname);
      if (route) {
        // A route pins its target: a URL-form handshake there would name another one.
        if (query.has("protocol")) {
          return new Refusal(
            "bad_request",
            `${url.pathname} is a route to a fixed target; it takes no protocol or target in its URL`,
          );
        }
        const token = query.get("token") ?? undefined;
        return { via: "route", path: url.pathname, target: route, token };
      }
      const prefix = door.settings.wisp;
      if (prefix !== undefined) {
        const endpoint = matchWispPath(prefix, url.pathname);
        if (endpoint?.kind === "wsproxy") {
          return { via: "wsproxy", target: endpoint.target, credential: endpoint.credential };
        }
        if (endpoint !== undefined) return undefined;
      }
      const token = query.get("token");
      if (query.has("protocol") || token === null) return undefined;
      if (targets.tokens === undefined && !targets.tickets) return undefined;
      return { via: "token", token };
    },
    subprotocol(claim, offered) {
      if (offered === null) return undefined;
      if (claim.via === "wsproxy") {
        return new Refusal("bad_request", "a wsproxy URL takes no WebSocket subprotocol");
      }
      const offers = offered.split(",").map((offer) => offer.trim());
      if (offers.includes(RAW_SUBPROTOCOL)) return RAW_SUBPROTOCOL;
      return new Refusal(
        "bad_request",
        `this raw session speaks only the ${RAW_SUBPROTOCOL} subprotocol; offer it or none`,
      );
    },
    credential(claim) {
      if (claim.via === "route") return claim.token;
      if (claim.via === "wsproxy") return claim.credential;
      return undefined;
    },
    async accept(claim, entrant, door, upgrade) {
      const tcp = door.registry.get("tcp");
      if (!tcp) return new Refusal("unsupported_protocol", "raw sessions need the tcp adapter");
      const chosen = await targetAndGrant(
        claim,
        entrant.grant,
        targets,
        door.admission.credentials,
      );
      if (chosen instanceof Refusal) return chosen;
      const { target, grant } = chosen;
      const { proxyProtocol } = target;
      let selection: Selection;
      try {
        // The adapter's own target, as a handshake naming the same host and port would give it.
        const parsed = tcp.parse({ target_ip: target.host, target_port: target.port });
        selection = { adapter: tcp, target: parsed, echo: {}, token: undefined };
      } catch (error) {
        if (error instanceof ProxyError) return new Refusal("bad_request", error.message);
        throw error;
      }
      const admitted: Entrant = { ...entrant, grant };
      if (claim.via === "wsproxy") {
        // wsproxy clients expect the upgrade to succeed and the target's refusal as a close.
        return plan(door, admitted, { kind: "fixed", selection });
      }
      // Opening the target may take --connect-timeout; Bun's HTTP idle timer must wait.
      upgrade.waitLonger();
      return openBeforeUpgrade(door, admitted, tcp, selection, proxyProtocol);
    },
  });
}

function plan(
  door: FrontDoor,
  entrant: Entrant,
  chooser: Parameters<typeof serveOneSession>[4],
): Plan {
  return { start: (ws) => serveOneSession(ws, door, "raw", entrant, chooser, "silent") };
}

/** The target is reached through admission now; the session starts from the open connection. */
async function openBeforeUpgrade(
  door: FrontDoor,
  entrant: Entrant,
  tcp: ProtocolAdapter,
  selection: Selection,
  proxyProtocol: ProxyProtocolSetting | undefined,
): Promise<Plan | Refusal> {
  const latch = eventLatch();
  const where = describe(selection);
  // Taken now: a PROXY protocol header names the session before the session exists.
  const sessionId = door.sessionId();
  try {
    const reached = await door.admission.reach(
      {
        adapter: tcp,
        target: selection.target,
        grant: entrant.grant,
        token: undefined,
        proxyProtocol,
        client: entrant.client,
        sessionId,
        frontEnd: "raw",
        identity: entrant.identity,
      },
      latch.events,
      new AbortController(),
    );
    let taken = false;
    return {
      start(ws) {
        taken = true;
        return serveOneSession(
          ws,
          door,
          "raw",
          entrant,
          { kind: "reached", selection, reached, attach: latch.attach },
          "silent",
          sessionId,
        );
      },
      discard() {
        if (taken) return;
        reached.connection.destroy();
        reached.lease.release();
      },
    };
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    // The client reads the status only: which target, and a credential failure's class at most.
    const message =
      error.code === "forbidden"
        ? `${where} is not allowed`
        : error.code === "unauthorized"
          ? error.message
          : `${where}: ${error.message}`;
    return new Refusal(error.code, message, `${where}: ${error.logReason}`);
  }
}

function describe(selection: Selection): string {
  const adapter = selection.adapter;
  if (adapter.endpoint !== "network") return "target";
  const { host, port } = adapter.locate(selection.target);
  return formatHostPort(host, port);
}

/**
 * Without a credential that names someone, a token-file entry's principal is its token: the name
 * websockify clients already use for the target (the token is in the URL, so no secret is logged
 * that the access log does not already hold).
 */
function tokenFilePrincipal(grant: Grant, token: string): Grant {
  if (grant.kind !== "anonymous") return grant;
  return { ...grant, principal: { name: token, source: "token-file" } };
}

/** Which target the URL names, and the credential it is opened with. */
async function targetAndGrant(
  claim: RawClaim,
  grant: Grant | undefined,
  targets: FixedTargets,
  credentials: CredentialCheck,
): Promise<{ target: FixedTarget; grant: Grant } | Refusal> {
  if (claim.via === "route" || claim.via === "wsproxy") {
    if (grant) return { target: claim.target, grant };
    return missingCredential(`${claim.via}: no credential was sent`);
  }
  const fromFile = targets.tokens?.lookup(claim.token);
  if (fromFile) {
    // The token names the target, it proves nothing: a required credential must come in a header.
    if (grant) return { target: fromFile, grant: tokenFilePrincipal(grant, claim.token) };
    return missingCredential(
      "token file entry found, but a credential is required and no Authorization header was sent",
    );
  }
  if (targets.tickets) {
    const result = await credentials.check(claim.token);
    if (result.ok && result.kind === "ticket") {
      const named = result.pins.target;
      // The claim goes with the target: it holds even when a header brought another credential.
      const proxyProtocol = result.pins.proxyProtocol;
      const target = named && proxyProtocol ? { ...named, proxyProtocol } : named;
      if (target) return { target, grant: grant ?? result };
      return new Refusal(
        "unknown_target",
        "no such token",
        "the ticket names no target (claims host and port)",
      );
    }
    // A token that is not a ticket at all is an unknown token-file entry (404), not a bad ticket.
    if (!result.ok && result.failure !== "missing" && result.failure !== "not_valid") {
      return new Refusal("unauthorized", result.clientReason, result.reason);
    }
  }
  return new Refusal("unknown_target", "no such token", "unknown token");
}
