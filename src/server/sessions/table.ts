import { CloseCode, CloseReason } from "../../protocol/constants.ts";
import type { SessionHooks } from "../../session/hooks.ts";
import type { Session } from "../../session/session.ts";
import type { Revocations } from "../../state/revocations.ts";
import { type SessionPage, type SessionQuery, selectViews } from "./query.ts";
import { type SessionView, sessionId, viewOf } from "./view.ts";

/** A session began proxying, or its client side ended (the `tail` stream). */
export type SessionEvent =
  | { readonly event: "opened"; readonly session: SessionView }
  | {
      readonly event: "closed";
      readonly session: SessionView;
      readonly close_code: number | null;
      /** Who chose the close code: `client`, `server` or `target`. */
      readonly closed_by: string;
      readonly reason: string;
    };

/**
 * `ended`: closed now; `flushing`: its client had already gone; `unknown`: no such session;
 * `unanswered`: the instance named did not answer (it is gone, or the shared state is down).
 */
export type KillOutcome = "ended" | "flushing" | "unknown" | "unanswered";

/** The sessions a kill by principal ended. */
export interface PrincipalEnded {
  /** Their ids (unique per instance). */
  readonly ended: readonly string[];
  /** Across a fleet: the ids each instance ended. */
  readonly instances?: Readonly<Record<string, readonly string[]>>;
  /** Across a fleet: instances that heard the kill and did not answer in time. */
  readonly unanswered?: number;
}

/** Whether an answer from another process (a worker, an instance) is a kill's list of ids. */
export const isEnded = (value: unknown): value is PrincipalEnded =>
  typeof value === "object" && value !== null && Array.isArray((value as PrincipalEnded).ended);

/** What the sessions API asks of the sessions: one process's, the supervisor's, or the fleet's. */
export interface SessionsBackend {
  /** Whether it reaches the fleet (`--state`): `scope=fleet` and kills naming an instance. */
  readonly fleetWide: boolean;
  list(query: SessionQuery): Promise<SessionPage>;
  /** Ends a session; `instance` names the fleet instance holding it (default: this one). */
  kill(id: string, instance?: string): Promise<KillOutcome>;
  /**
   * Ends every session of the principal whose client is still there; with `untilMs`, its new
   * sessions are refused until then.
   */
  killPrincipal(name: string, untilMs?: number): Promise<PrincipalEnded>;
  /** Events from now on; returns the way to stop them. */
  subscribe(listener: (event: SessionEvent) => void): () => void;
}

/** One process's sessions for the API, and the observer that tells it what happens. */
export interface SessionTable extends SessionsBackend {
  /** The observer of one session (its opened and closed events). */
  hooks(session: () => Session): SessionHooks;
}

/** An operator's end: the documented close code, then the session flushes as on any close. */
export function endByOperator(session: Session): boolean {
  if (session.phase === "closed") return false;
  session.close(CloseCode.endedByOperator, CloseReason.endedByOperator);
  return true;
}

export function createSessionTable(
  sessions: ReadonlySet<Session>,
  worker: string | undefined,
  revocations: Revocations,
): SessionTable {
  const listeners = new Set<(event: SessionEvent) => void>();
  const emit = (event: SessionEvent) => {
    for (const listener of listeners) listener(event);
  };
  const find = (id: string) => {
    for (const session of sessions) if (sessionId(session.id, worker) === id) return session;
    return undefined;
  };
  return {
    fleetWide: false,
    async list(query) {
      return selectViews(
        [...sessions].map((session) => viewOf(session, worker)),
        query,
      );
    },
    async kill(id) {
      const session = find(id);
      if (!session) return "unknown";
      return endByOperator(session) ? "ended" : "flushing";
    },
    async killPrincipal(name, untilMs) {
      // First, so that no session of the principal slips in while these close.
      if (untilMs !== undefined) revocations.revoke(name, untilMs);
      const ended: string[] = [];
      // A copy: closing may release a session, which leaves the set.
      for (const session of [...sessions]) {
        if (session.principal.name === name && endByOperator(session)) {
          ended.push(sessionId(session.id, worker));
        }
      }
      return { ended };
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    hooks(session) {
      // Only sessions that reached their target were announced, so only they are said to close.
      let announced = false;
      return {
        opened() {
          announced = true;
          if (listeners.size > 0) emit({ event: "opened", session: viewOf(session(), worker) });
        },
        closed(record) {
          if (!announced || listeners.size === 0) return;
          emit({
            event: "closed",
            session: viewOf(session(), worker),
            close_code: record.closeCode ?? null,
            closed_by: record.closedBy,
            reason: record.closeReason,
          });
        },
      };
    },
  };
}
