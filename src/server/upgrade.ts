import type { Server } from "bun";
import { type Entrant, toldAfterUpgrade } from "../admission/admission.ts";
import { Refusal } from "../admission/refusal.ts";
import { textResponse } from "../admission/responses.ts";
import type { AnyFrontEnd, Plan, Served } from "../front-ends/front-end.ts";
import type { FrontEndName } from "../metrics/labels.ts";
import type { ServerConfig } from "./config.ts";
import type { Door } from "./door.ts";
import { CLOSE_LINGER_MS, type LingerCount } from "./lingering.ts";
import { notAnUpgrade } from "./routes.ts";

/** Where a WebSocket is: refused (closes at open), accepted (a plan), served, or closed. */
export type ConnectionState =
  | { readonly kind: "refused"; readonly refusal: Refusal }
  | { readonly kind: "accepted"; readonly plan: Plan; readonly entrant: Entrant }
  | { readonly kind: "served"; readonly served: Served }
  | { readonly kind: "closed" };

/** A WebSocket's `ws.data`: its front end and where it is. */
export interface Connection {
  readonly id: number;
  readonly frontEnd: FrontEndName;
  state: ConnectionState;
}

let nextConnectionId = 1;

/**
 * The front door for one HTTP request that asks to upgrade: which front end claims it, its
 * subprotocol, admission (`enter`), the front end's `accept`, then the upgrade itself. Every
 * refusal is answered from the one table: an HTTP status, or a close code once upgraded.
 */
export function createUpgrade(
  config: Pick<ServerConfig, "maxConnections">,
  door: Door,
  lingering: LingerCount,
): (request: Request, server: Server<Connection>) => Promise<Response | undefined> {
  const { logger, metrics } = door;
  const refuse = (refusal: Refusal, frontEnd: AnyFrontEnd, client?: string): Response => {
    metrics?.refused(refusal.row.metric, frontEnd.name);
    if (client !== undefined) {
      logger.info(`refused upgrade from ${client} (${refusal.row.http}): ${refusal.logReason}`);
    } else logger.debug(`refused an upgrade: ${refusal.logReason}`);
    return refusal.response();
  };

  return async (request: Request, server: Server<Connection>) => {
    // Refused before the upgrade, so that refusing costs no lingering socket.
    if (lingering.count() >= config.maxConnections) {
      metrics?.refused("capacity");
      logger.debug("refused an upgrade: too many refused connections still closing");
      return textResponse("503 Service Unavailable: server at capacity, try again later", 503, {
        connection: "close",
        "retry-after": String(CLOSE_LINGER_MS / 1000),
      });
    }
    const url = new URL(request.url);
    let frontEnd: AnyFrontEnd | undefined;
    let claim: unknown;
    for (const candidate of door.frontEnds) {
      claim = candidate.claim(url, door);
      if (claim !== undefined) {
        frontEnd = candidate;
        break;
      }
    }
    if (frontEnd === undefined) return notAnUpgrade();
    if (claim instanceof Refusal) return refuse(claim, frontEnd);
    const subprotocol = frontEnd.subprotocol(claim, request.headers.get("sec-websocket-protocol"));
    if (subprotocol instanceof Refusal) return refuse(subprotocol, frontEnd);
    const entered = await door.admission.enter(
      request,
      server.requestIP(request),
      frontEnd.credential?.(claim),
    );
    const upgradeWith = (state: ConnectionState): boolean => {
      const data: Connection = { id: nextConnectionId++, frontEnd: frontEnd.name, state };
      const headers = subprotocol ? { "sec-websocket-protocol": subprotocol } : undefined;
      return server.upgrade(request, { data, ...(headers ? { headers } : {}) });
    };
    if ("refusal" in entered) {
      const { refusal } = entered;
      if (!toldAfterUpgrade(refusal)) return refuse(refusal, frontEnd);
      // Told as a close code, which a browser can read (it sees no HTTP status).
      return upgradeWith({ kind: "refused", refusal }) ? undefined : notAnUpgrade();
    }
    let plan: Plan | Refusal;
    try {
      const accepted = frontEnd.accept(claim, entered, door, {
        subprotocol,
        waitLonger: () => server.timeout(request, 0),
      });
      // Most front ends decide at once: no turn of the event loop for them.
      plan = accepted instanceof Promise ? await accepted : accepted;
    } catch (error) {
      entered.slot.release();
      throw error;
    }
    if (plan instanceof Refusal) {
      entered.slot.release();
      return refuse(plan, frontEnd, entered.client.label);
    }
    let upgraded = false;
    try {
      upgraded = upgradeWith({ kind: "accepted", plan, entrant: entered });
    } finally {
      // A target opened for a client that is gone (or was never a valid upgrade).
      if (!upgraded) {
        plan.discard?.();
        entered.slot.release();
      }
    }
    if (upgraded) return undefined;
    metrics?.refused("bad_request", frontEnd.name);
    return notAnUpgrade();
  };
}
