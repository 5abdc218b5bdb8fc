import type { Entrant } from "../admission/admission.ts";
import type { FrontEndName } from "../metrics/labels.ts";
import type { TargetChooser } from "../session/selection.ts";
import { protocolStatus, silentStatus } from "../session/status.ts";
import type { FrontDoor, Served } from "./front-end.ts";
import { type ClientSocket, WebSocketClient } from "./websocket-client.ts";

/**
 * Bytes that checking paused clients may read into a session's queue over the connection's life:
 * room for what a client that died left in the network (its pong comes after everything it sent;
 * about 4.7 MiB measured on loopback after a flood), bounded so that checking a live client whose
 * target does not read cannot grow memory without end.
 */
const CHECK_READ_BUDGET = 8 * 1024 * 1024;

/** How a one-session WebSocket's client hears of its target: status frames, or nothing (raw). */
export type Speech = "status" | "silent";

/** Serves a WebSocket that carries exactly one session (Socket2Web's own protocol, raw sessions). */
export function serveOneSession(
  ws: ClientSocket,
  door: FrontDoor,
  frontEnd: FrontEndName,
  entrant: Entrant,
  chooser: TargetChooser,
  speech: Speech,
  /** An id taken before the session (`door.sessionId()`), when its target was opened first. */
  id?: number,
): Served {
  const client = new WebSocketClient(
    ws,
    (door.settings.clientTimeout * 1000) / 2,
    CHECK_READ_BUDGET,
  );
  const session = door.session({
    frontEnd,
    client,
    chooser,
    status: speech === "status" ? protocolStatus(client) : silentStatus,
    entrant,
    id,
  });
  session.start();
  return {
    message(data) {
      client.received(data.length);
      session.message(data);
    },
    drain: () => session.clientDrained(),
    pong: () => client.ponged(),
    closed(code, reason) {
      client.dispose();
      session.clientClosed(code, reason);
    },
    close: (code, reason) => session.close(code, reason),
  };
}
