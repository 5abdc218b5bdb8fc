import type { Location } from "../../adapters/types.ts";
import { formatHostPort } from "../../net/host-port.ts";
import type { Session } from "../../session/session.ts";

/**
 * One live session as the sessions API shows it (docs/operations.md, "Live sessions"). Field
 * names are the API's, snake case, stable for scripts.
 */
export interface SessionView {
  /** Unique in the instance: `7`, or `w2-7` for session 7 of worker 2. */
  readonly id: string;
  readonly principal: string;
  /** The client's address. */
  readonly client: string;
  readonly frontend: string;
  /** The adapter; null before the target is chosen. */
  readonly protocol: string | null;
  /** `host:port` or the path, as the client asked; null before it is chosen. */
  readonly target: string | null;
  /** The checked address (`address:port`) or path the target was reached at; null before. */
  readonly connected_to: string | null;
  readonly state: SessionStateName;
  /** ISO 8601, UTC. */
  readonly started: string;
  /** Bytes from the client towards the target. */
  readonly bytes_up: number;
  /** Bytes from the target towards the client. */
  readonly bytes_down: number;
  /** The side not being read because the other is behind: `client`, `target`, `both` or null. */
  readonly paused: "client" | "target" | "both" | null;
  /** A Wisp stream: its connection id and stream id. */
  readonly wisp?: { readonly connection: number; readonly stream: number };
  /** In a fleet's list (`scope=fleet`): the instance holding it (`HOST:PID`). */
  readonly instance?: string;
}

/** `flushing`: the client has gone; the target is still being given what the client sent. */
export type SessionStateName = "handshake" | "connecting" | "proxying" | "flushing";

/** The id of session `n` of this process: workers prefix theirs so ids are unique per instance. */
export function sessionId(n: number, worker: string | undefined): string {
  return worker === undefined ? String(n) : `w${worker}-${n}`;
}

/** The worker an id names (`w2-7` → `2`), undefined for an id without one. */
export function workerOfId(id: string): string | undefined {
  return /^w(\d+)-\d+$/.exec(id)?.[1];
}

function located(location: Location | undefined): string | null {
  if (location === undefined) return null;
  return location.kind === "path" ? location.path : formatHostPort(location.address, location.port);
}

export function viewOf(session: Session, worker: string | undefined): SessionView {
  const { client, target } = session.paused;
  const wisp = session.wisp;
  return {
    id: sessionId(session.id, worker),
    principal: session.principal.name,
    client: session.peer,
    frontend: session.frontEnd,
    protocol: session.protocol ?? null,
    target: session.target ?? null,
    connected_to: located(session.connectedTo),
    state: session.phase === "closed" ? "flushing" : session.phase,
    started: new Date(session.startedAtMs).toISOString(),
    bytes_up: session.bytesFromClient,
    bytes_down: session.bytesFromTarget,
    paused: client && target ? "both" : client ? "client" : target ? "target" : null,
    ...(wisp ? { wisp: { connection: wisp.connection, stream: wisp.stream } } : {}),
  };
}
