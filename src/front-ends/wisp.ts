import type { Entrant } from "../admission/admission.ts";
import { missingCredential, Refusal } from "../admission/refusal.ts";
import type { Grant } from "../auth/credentials.ts";
import { UNNAMED_PREFIX } from "../auth/tokens.ts";
import { type WispAccess, WispConnection } from "../wisp/connection.ts";
import { WISP_CREDIT } from "../wisp/credit.ts";
import { matchWispPath, wispSubprotocol } from "../wisp/endpoint.ts";
import { defineFrontEnd, type FrontDoor, type Served } from "./front-end.ts";
import type { ClientSocket } from "./websocket-client.ts";

/** A Wisp connection's upgrade: the credential its path may carry. */
export interface WispClaim {
  readonly credential: string | undefined;
}

/**
 * Wisp (wisp-protocol v1 and v2) under the `--wisp` prefix: many streams on one WebSocket, each
 * stream a session admitted like any other. wsproxy URLs under the same prefix are raw sessions.
 */
export const wisp = defineFrontEnd<WispClaim>({
  name: "wisp",
  claim(url, door) {
    const prefix = door.settings.wisp;
    if (prefix === undefined) return undefined;
    const endpoint = matchWispPath(prefix, url.pathname);
    if (endpoint === undefined || endpoint.kind === "wsproxy") return undefined;
    if (endpoint.kind === "invalid") return new Refusal("bad_request", endpoint.reason);
    return { credential: endpoint.credential };
  },
  // wisp-protocol v2: an offered subprotocol (any) means version 2; the first offer is answered.
  subprotocol: (_claim, offered) => wispSubprotocol(offered),
  credential: (claim) => claim.credential,
  accept(_claim, entrant, door, upgrade) {
    if (!door.registry.get("tcp")) {
      return new Refusal("unsupported_protocol", "Wisp needs the tcp adapter");
    }
    const version = upgrade.subprotocol === undefined ? 1 : 2;
    // A Wisp 1 client has no INFO to carry a credential: it had to bring one with the upgrade.
    if (!entrant.grant && version === 1) {
      return missingCredential("Wisp 1 upgrade without a credential");
    }
    return { start: (ws, id) => serveWisp(ws, id, door, entrant, version) };
  },
});

/**
 * The password extension's user name names the principal when the password is an unnamed static
 * token (a token shared by several people says nothing of who uses it). A named token or a ticket
 * keeps its own name: a client-chosen user name never replaces a name the operator or an issuer
 * gave, so it cannot be used to match another principal's access rule.
 */
function wispPrincipal(grant: Grant, username: string): Grant {
  const name = username.trim();
  const unnamed = grant.kind === "token" && grant.principal?.name.startsWith(UNNAMED_PREFIX);
  if (!unnamed || name === "") return grant;
  return { ...grant, principal: { name, source: "wisp" } };
}

function serveWisp(
  ws: ClientSocket,
  id: number,
  door: FrontDoor,
  entrant: Entrant,
  version: 1 | 2,
): Served {
  const { admission, registry, settings, logger } = door;
  const tcp = registry.get("tcp");
  const udp = registry.get("udp");
  const access: WispAccess = entrant.grant
    ? { kind: "open", grant: entrant.grant }
    : {
        kind: "password",
        async authenticate(password, username) {
          const result = await admission.credentials.check(password);
          if (result.ok) return wispPrincipal(result, username);
          logger.info(`refused a Wisp password from ${entrant.client.label}: ${result.reason}`);
          return undefined;
        },
      };
  const label = `wisp ${id} ${entrant.client.label}`;
  const connection = new WispConnection(ws, {
    version,
    credit: settings.wispTuning.credit ?? WISP_CREDIT,
    ...(settings.wispTuning.infoTimeoutMs !== undefined
      ? { infoTimeoutMs: settings.wispTuning.infoTimeoutMs }
      : {}),
    ...(settings.wispTuning.outbound ? { outbound: settings.wispTuning.outbound } : {}),
    maxStreams: settings.wispMaxStreams,
    adapters: { tcp: tcp as NonNullable<typeof tcp>, ...(udp ? { udp } : {}) },
    access,
    session: (request) =>
      door.session({
        frontEnd: "wisp",
        client: request.client,
        chooser: { kind: "fixed", selection: request.selection },
        status: request.status,
        // The connection's own grant, unless the password extension brought another.
        entrant: request.grant === entrant.grant ? entrant : { ...entrant, grant: request.grant },
        // One log line per stream, tagged with its connection.
        label: `${entrant.client.label} wisp ${id} stream ${request.streamId}`,
        wisp: { connection: id, stream: request.streamId },
        hooks: [request.hooks],
        shared: true,
      }),
    // Each stream takes a token from the client address's rate limit, as an upgrade does.
    admitStream: () => admission.stream(entrant.client)?.message,
    logger,
    label,
    maxLifetime: settings.maxLifetime,
    idleTimeout: settings.idleTimeout,
    released: () => entrant.slot.release(),
  });
  const watched = settings.wispTuning.connections;
  watched?.add(connection);
  connection.start();
  return {
    message: (data) => connection.message(data),
    drain: () => connection.drain(),
    pong() {},
    closed(code) {
      watched?.delete(connection);
      connection.closed(code);
    },
    close: (code, reason) => connection.close(code, reason),
  };
}
