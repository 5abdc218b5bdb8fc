import type { ParentChannel, WorkerChannel } from "../../metrics/aggregate.ts";
import { isPage, mergePages, type SessionPage, type SessionQuery } from "./query.ts";
import {
  isEnded,
  type KillOutcome,
  type PrincipalEnded,
  type SessionEvent,
  type SessionsBackend,
} from "./table.ts";
import { workerOfId } from "./view.ts";

/**
 * With --workers N the supervisor answers the sessions API for every worker, over the IPC channel
 * it spawned them with (as for metrics, src/metrics/aggregate.ts): it asks each worker, merges the
 * answers, and sends a kill to the worker an id names. Events flow only while someone tails them.
 */

const CALL = "socket2web.sessions.call";
const ANSWER = "socket2web.sessions.answer";
/** Supervisor → worker: send events (true) or stop (false). */
const SUBSCRIBE = "socket2web.sessions.subscribe";
/** Worker → supervisor: one event. */
const EVENT = "socket2web.sessions.event";
/** Worker → supervisor when it starts: tell it whether to send events (a restarted worker). */
const HELLO = "socket2web.sessions.hello";

type Call =
  | { readonly op: "list"; readonly query: SessionQuery }
  | { readonly op: "kill"; readonly session: string; readonly instance?: string }
  | { readonly op: "killPrincipal"; readonly principal: string; readonly until?: number };

type ToWorker =
  | { readonly type: typeof CALL; readonly id: number; readonly call: Call }
  | { readonly type: typeof SUBSCRIBE; readonly on: boolean };

type FromWorker =
  | { readonly type: typeof ANSWER; readonly id: number; readonly result: unknown }
  | { readonly type: typeof EVENT; readonly event: SessionEvent }
  | { readonly type: typeof HELLO };

/** How long the supervisor waits for a worker; one that is slower (or restarting) is left out. */
export const WORKER_ANSWER_TIMEOUT_MS = 2000;

const typeOf = (message: unknown): unknown =>
  typeof message === "object" && message !== null
    ? (message as { type?: unknown }).type
    : undefined;

/**
 * Worker side: answers the supervisor's calls from this worker's sessions (or, for the fleet's
 * questions, through them to the fleet), and sends its events.
 */
export function linkWorkerSessions(
  sessions: SessionsBackend,
  channel: ParentChannel = process as unknown as ParentChannel,
): void {
  let unsubscribe: (() => void) | undefined;
  const send = (message: FromWorker) => {
    try {
      channel.send?.(message);
    } catch {
      // The supervisor is gone; the worker is about to end too.
    }
  };
  channel.on("message", (message) => {
    const type = typeOf(message);
    if (type === SUBSCRIBE) {
      const on = (message as { on?: unknown }).on === true;
      if (on && !unsubscribe) {
        unsubscribe = sessions.subscribe((event) => send({ type: EVENT, event }));
      } else if (!on && unsubscribe) {
        unsubscribe();
        unsubscribe = undefined;
      }
      return;
    }
    if (type !== CALL) return;
    const { id, call } = message as Extract<ToWorker, { type: typeof CALL }>;
    const answer =
      call.op === "list"
        ? sessions.list(call.query)
        : call.op === "kill"
          ? sessions.kill(call.session, call.instance)
          : sessions.killPrincipal(call.principal, call.until);
    void answer.then(
      (result) => send({ type: ANSWER, id, result }),
      (error: unknown) => send({ type: ANSWER, id, result: { error: (error as Error).message } }),
    );
  });
  send({ type: HELLO });
}

export interface SupervisorSessions {
  readonly backend: SessionsBackend;
  /** Hand every IPC message from a worker here; true when it was one of the sessions API's. */
  receive(workerId: number, message: unknown): boolean;
}

/**
 * Supervisor side: the sessions API's backend over every running worker. With `fleetWide`
 * (`--state`) each worker is an instance of the fleet: a question for the fleet goes to one
 * worker, which asks the fleet (its siblings included).
 */
export function superviseSessions(
  workers: () => ReadonlyMap<number, WorkerChannel>,
  fleetWide = false,
  timeoutMs = WORKER_ANSWER_TIMEOUT_MS,
): SupervisorSessions {
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  const listeners = new Set<(event: SessionEvent) => void>();

  const tell = (channel: WorkerChannel, message: ToWorker) => {
    try {
      channel.send(message);
      return true;
    } catch {
      // A worker that just exited.
      return false;
    }
  };
  const ask = (channel: WorkerChannel, call: Call) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        resolve(undefined);
      }, timeoutMs);
      pending.set(id, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      if (!tell(channel, { type: CALL, id, call })) {
        clearTimeout(timer);
        pending.delete(id);
        resolve(undefined);
      }
    });
  const askAll = (call: Call) => Promise.all([...workers().values()].map((w) => ask(w, call)));
  /** One worker's answer for the fleet; an error it relays (the fleet unreachable) is thrown. */
  const askFleet = async (call: Call): Promise<unknown> => {
    const [channel] = workers().values();
    const answer = channel ? await ask(channel, call) : undefined;
    if (answer === undefined) throw new Error("no worker answered for the fleet");
    const error = (answer as { error?: unknown }).error;
    if (typeof error === "string") throw new Error(error);
    return answer;
  };
  const subscribeAll = (on: boolean) => {
    for (const channel of workers().values()) tell(channel, { type: SUBSCRIBE, on });
  };

  const backend: SessionsBackend = {
    fleetWide,
    async list(query) {
      if (query.scope === "fleet") return (await askFleet({ op: "list", query })) as SessionPage;
      const answers = await askAll({ op: "list", query });
      return mergePages(answers.filter(isPage), query);
    },
    async kill(id, instance) {
      if (instance !== undefined) {
        const outcome = await askFleet({ op: "kill", session: id, instance }).catch(
          () => "unanswered",
        );
        return outcome as KillOutcome;
      }
      const worker = workerOfId(id);
      const channel = worker === undefined ? undefined : workers().get(Number(worker));
      if (!channel) return "unknown";
      const outcome = await ask(channel, { op: "kill", session: id });
      return outcome === "ended" || outcome === "flushing" ? (outcome as KillOutcome) : "unknown";
    },
    async killPrincipal(principal, until) {
      const call: Call = {
        op: "killPrincipal",
        principal,
        ...(until !== undefined ? { until } : {}),
      };
      if (fleetWide) return (await askFleet(call)) as PrincipalEnded;
      const answers = await askAll(call);
      return { ended: answers.filter(isEnded).flatMap((answer) => answer.ended) };
    },
    subscribe(listener) {
      listeners.add(listener);
      if (listeners.size === 1) subscribeAll(true);
      return () => {
        if (listeners.delete(listener) && listeners.size === 0) subscribeAll(false);
      };
    },
  };

  return {
    backend,
    receive(workerId, message) {
      const type = typeOf(message);
      if (type === ANSWER) {
        const { id, result } = message as Extract<FromWorker, { type: typeof ANSWER }>;
        pending.get(id)?.(result);
        pending.delete(id);
        return true;
      }
      if (type === EVENT) {
        const { event } = message as Extract<FromWorker, { type: typeof EVENT }>;
        for (const listener of listeners) listener(event);
        return true;
      }
      if (type === HELLO) {
        const channel = workers().get(workerId);
        if (channel && listeners.size > 0) tell(channel, { type: SUBSCRIBE, on: true });
        return true;
      }
      return false;
    },
  };
}
