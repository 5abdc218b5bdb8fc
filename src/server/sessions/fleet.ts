import type { FleetAnswer, FleetLink } from "../../state/fleet-link.ts";
import { isPage, mergePages, type SessionPage, type SessionQuery } from "./query.ts";
import { isEnded, type KillOutcome, type SessionsBackend } from "./table.ts";

/** A question one instance asks the others about their sessions. */
export type FleetQuestion =
  | { readonly op: "list"; readonly query: SessionQuery }
  | { readonly op: "kill"; readonly session: string; readonly instance: string }
  | { readonly op: "killPrincipal"; readonly principal: string; readonly until?: number };

const KILL_OUTCOMES: ReadonlySet<unknown> = new Set(["ended", "flushing", "unknown"]);

/** Reads a question off the wire: anything else is an error the asker is told. */
function questionOf(value: unknown): FleetQuestion {
  const question = value as Partial<Record<string, unknown>> | null;
  if (typeof question !== "object" || question === null) throw new Error("not a question");
  if (question.op === "list" && typeof question.query === "object" && question.query !== null) {
    return question as FleetQuestion;
  }
  if (
    question.op === "kill" &&
    typeof question.session === "string" &&
    typeof question.instance === "string"
  ) {
    return question as FleetQuestion;
  }
  if (
    question.op === "killPrincipal" &&
    typeof question.principal === "string" &&
    (question.until === undefined || typeof question.until === "number")
  ) {
    return question as FleetQuestion;
  }
  throw new Error("not a question this instance understands");
}

/**
 * The sessions API across a fleet sharing `--state`: `scope=fleet` lists every instance's
 * sessions, a kill naming an instance reaches it, and a kill by principal (with its refusal
 * until a time) reaches every instance. Everything else is this instance's own (`local`).
 * `answer` is how this instance answers the others' questions, from `local`.
 */
export function fleetSessions(
  local: SessionsBackend,
  link: FleetLink,
): { readonly backend: SessionsBackend; answer(question: unknown): Promise<unknown> } {
  const self = link.instance;
  const backend: SessionsBackend = {
    fleetWide: true,
    async list(query) {
      if (query.scope !== "fleet") return local.list(query);
      const { answers, unanswered } = await link.ask({
        op: "list",
        query: { ...query, scope: "instance" },
      } satisfies FleetQuestion);
      const pages = answers
        .filter((answer): answer is FleetAnswer & { result: SessionPage } => isPage(answer.result))
        .map(({ instance, result }) => ({
          total: result.total,
          sessions: result.sessions.map((view) => ({ ...view, instance })),
        }));
      return { ...mergePages(pages, query), unanswered };
    },
    async kill(id, instance) {
      if (instance === undefined || instance === self) return local.kill(id);
      const { answers } = await link.ask(
        { op: "kill", session: id, instance } satisfies FleetQuestion,
        (got) => got.some((answer) => answer.instance === instance),
      );
      const outcome = answers.find((answer) => answer.instance === instance)?.result;
      return KILL_OUTCOMES.has(outcome) ? (outcome as KillOutcome) : "unanswered";
    },
    async killPrincipal(name, untilMs) {
      if (untilMs !== undefined) await link.revoke(name, untilMs);
      const { answers, unanswered } = await link.ask({
        op: "killPrincipal",
        principal: name,
        ...(untilMs !== undefined ? { until: untilMs } : {}),
      } satisfies FleetQuestion);
      const instances: Record<string, readonly string[]> = {};
      for (const { instance, result } of answers) {
        if (isEnded(result)) instances[instance] = result.ended;
      }
      return { ended: Object.values(instances).flat(), instances, unanswered };
    },
    subscribe: (listener) => local.subscribe(listener),
  };
  return {
    backend,
    async answer(value) {
      const question = questionOf(value);
      switch (question.op) {
        case "list":
          return local.list(question.query);
        case "kill":
          // Every instance hears it; only the one named acts.
          return question.instance === self ? local.kill(question.session) : "not_mine";
        case "killPrincipal":
          return local.killPrincipal(question.principal, question.until);
      }
    },
  };
}
