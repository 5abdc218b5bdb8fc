import type { Location } from "../adapters/types.ts";
import type { SessionBandwidth } from "../limits/bandwidth.ts";
import type { ClosedBy } from "../log/closed-by.ts";
import type { FrontEndName } from "../metrics/labels.ts";
import type { SessionEnd } from "./end.ts";

/** The target a session opened, as observers are told once it is connected. */
export interface OpenedTarget {
  readonly protocol: string;
  readonly transport: "stream" | "messages";
  readonly location: Location;
  /** The host the client asked for (a name or an address), or the socket path. */
  readonly host: string | undefined;
}

/** Everything the one line, the metrics and the capture say about a session once its client has gone. */
export interface SessionRecord {
  readonly id: number;
  readonly frontEnd: FrontEndName;
  /** Who the session belongs to (`anonymous` without credentials). */
  readonly principal: string;
  readonly client: string;
  readonly protocol: string | undefined;
  readonly target: string | undefined;
  readonly bytesFromClient: number;
  readonly bytesFromTarget: number;
  readonly durationMs: number;
  readonly closeCode: number | undefined;
  /** Who chose the close code: a client's own code is not the server's verdict. */
  readonly closedBy: ClosedBy;
  readonly closeReason: string;
  /** The protocol error its status carried, if it failed before proxying. */
  readonly error: string | undefined;
  readonly dropped: { readonly toClient: number; readonly toTarget: number } | undefined;
  /** How the stream to the target ended (the capture's last packets). */
  readonly how: SessionEnd;
}

/**
 * What may watch a session: capture, metrics, logs, a Wisp stream's credit, the server's session
 * table. Every hook is optional; the session calls them, nothing wraps its adapter or target.
 */
export interface SessionHooks {
  /** The target is connected and the session will use it. */
  opened?(target: OpenedTarget): void;
  /** Bytes the target accepted from the client (a short write: as far as it went). */
  toTarget?(chunk: Uint8Array): void;
  /** Bytes the target sent. */
  fromTarget?(chunk: Uint8Array): void;
  /** The target stopped (true) or started again (false) being read because the client is behind. */
  targetPaused?(paused: boolean): void;
  /** The target can take more after a short write. */
  targetDrained?(): void;
  /** The session's bytes are under these bandwidth limits from now on (told as it starts proxying). */
  limited?(bandwidth: SessionBandwidth): void;
  /** The client's side has ended; the figures are final. */
  closed?(record: SessionRecord): void;
  /** Nothing of the session is held any more: its target is closed (or was never opened). */
  released?(): void;
}

/** The hooks told of each chunk or pause: combined once per relay, so a chunk costs one call. */
export type FlowHook = "toTarget" | "fromTarget" | "targetPaused" | "targetDrained";

/**
 * The listeners of one flow hook as one: absent when nobody listens, the one listener when there is
 * one (most sessions), else a call to each in turn. So a session without observers of its bytes
 * pays nothing per chunk. The once-per-session hooks need no combining: the session tells each
 * observer in turn.
 */
export function listenerOf<Name extends FlowHook>(
  list: readonly SessionHooks[],
  name: Name,
): SessionHooks[Name] {
  type Listener = (value: never) => void;
  let first: Listener | undefined;
  let several: Listener[] | undefined;
  for (const hooks of list) {
    const listener = hooks[name] as Listener | undefined;
    if (!listener) continue;
    if (!first) first = listener;
    else if (several) several.push(listener);
    else several = [first, listener];
  }
  if (!several) return first as SessionHooks[Name];
  const listeners = several;
  return ((value: never) => {
    for (const listener of listeners) listener(value);
  }) as SessionHooks[Name];
}
