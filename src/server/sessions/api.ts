import type { TokenSet } from "../../auth/tokens.ts";
import type { AdminRoute } from "../../metrics/listener.ts";
import { matches, pageOf, parseQuery, type SessionQuery } from "./query.ts";
import type { KillOutcome, SessionEvent, SessionsBackend } from "./table.ts";

/**
 * Events a `tail` subscriber may have waiting; past it the subscriber is too slow, gets a last
 * `dropped` event and is disconnected, so a stalled reader costs a bounded amount of memory.
 */
export const MAX_QUEUED_EVENTS = 1000;
/** A comment line this often keeps an idle stream open through proxies and shows it is alive. */
const HEARTBEAT_MS = 15_000;
export const SESSIONS_PATH = "/sessions";
const NOT_FLEET =
  "scope=fleet and ?instance= need --state: without it each instance knows only its own sessions";
export const EVENTS_PATH = "/sessions/events";

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(`${JSON.stringify(body)}\n`, {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
const problem = (status: number, message: string, headers: Record<string, string> = {}) =>
  json({ error: message }, status, headers);

/** The bearer token of a request, undefined without one. */
function bearer(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  const match = header === null ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

/**
 * The sessions API on the admin listener: `GET /sessions`, `DELETE /sessions/{id}`,
 * `DELETE /sessions?principal=NAME` and `GET /sessions/events` (Server-Sent Events), each for a
 * request that carries one of `tokens` as `Authorization: Bearer`.
 */
export function createSessionsApi(tokens: TokenSet, backend: SessionsBackend): AdminRoute {
  return async (request, path, keepOpen) => {
    const token = bearer(request);
    if (token === undefined) {
      return problem(
        401,
        "the sessions API needs Authorization: Bearer TOKEN (--admin-token-file)",
        {
          "www-authenticate": 'Bearer realm="socket2web admin"',
        },
      );
    }
    if (!tokens.matches(token)) {
      return problem(401, "the bearer token is not one of --admin-token-file", {
        "www-authenticate": 'Bearer realm="socket2web admin", error="invalid_token"',
      });
    }
    const url = new URL(request.url);
    if (path === EVENTS_PATH) {
      if (request.method !== "GET") return notAllowed("GET");
      const query = parseQuery(url.searchParams);
      if (typeof query === "string") return problem(400, query);
      keepOpen();
      return eventStream(backend, query, request.signal);
    }
    if (path === SESSIONS_PATH) {
      if (request.method === "GET") {
        const query = parseQuery(url.searchParams);
        if (typeof query === "string") return problem(400, query);
        if (query.scope === "fleet" && !backend.fleetWide) return problem(400, NOT_FLEET);
        try {
          return json(pageOf(await backend.list(query), query));
        } catch (error) {
          return problem(503, (error as Error).message);
        }
      }
      if (request.method === "DELETE") return killPrincipal(backend, url.searchParams);
      return notAllowed("GET, DELETE");
    }
    const id = decodedId(path.slice(SESSIONS_PATH.length + 1));
    if (id === undefined || id === "" || id.includes("/")) {
      return problem(
        404,
        `no such path: ${path} (the API serves /sessions, /sessions/ID and /sessions/events)`,
      );
    }
    if (request.method !== "DELETE") return notAllowed("DELETE");
    const unknown = [...url.searchParams.keys()].find((key) => key !== "instance");
    if (unknown !== undefined) {
      return problem(400, `DELETE /sessions/ID takes only ?instance=NAME, not ${unknown}`);
    }
    const instance = url.searchParams.get("instance") ?? undefined;
    if (instance === "") return problem(400, "instance is empty: give a name or leave it out");
    if (instance !== undefined && !backend.fleetWide) return problem(400, NOT_FLEET);
    let outcome: KillOutcome;
    try {
      outcome = await backend.kill(id, instance);
    } catch (error) {
      return problem(503, (error as Error).message);
    }
    const where = instance === undefined ? "" : ` on ${instance}`;
    if (outcome === "unknown") return problem(404, `no live session ${JSON.stringify(id)}${where}`);
    if (outcome === "unanswered") {
      return problem(
        504,
        `instance ${instance} did not answer: it is gone, or the shared state is unreachable`,
      );
    }
    if (outcome === "flushing") {
      return problem(
        409,
        `session ${id}${where} has already ended; its target is being given its last bytes`,
      );
    }
    return json({ ended: [id], ...(instance !== undefined ? { instance } : {}) });
  };
}

/** A path segment as text; undefined for a malformed %-escape. */
function decodedId(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function notAllowed(allow: string): Response {
  return problem(405, `method not allowed here: use ${allow}`, { allow });
}

/** The longest a principal can be refused by one kill: a mistyped year does not lock it out for ever. */
export const MAX_REFUSAL_DAYS = 366;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** `until` as ms since the epoch, or a sentence saying what is wrong with it. */
export function refusalUntil(text: string, now = Date.now()): number | string {
  const at = RFC3339.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(at)) {
    return `until must be a time with its zone, such as 2026-12-31T18:00:00Z; got ${JSON.stringify(text)}`;
  }
  if (at <= now) return `until is in the past: ${text}`;
  if (at - now > MAX_REFUSAL_DAYS * 86_400_000) {
    return `until is more than ${MAX_REFUSAL_DAYS} days away: ${text}`;
  }
  return at;
}

async function killPrincipal(backend: SessionsBackend, params: URLSearchParams): Promise<Response> {
  const names = params.getAll("principal");
  const untils = params.getAll("until");
  const others = [...params.keys()].filter((key) => key !== "principal" && key !== "until");
  if (names.length !== 1 || others.length > 0 || names[0] === "" || untils.length > 1) {
    // Never a kill of everything by a mistyped query.
    return problem(
      400,
      "DELETE /sessions takes exactly one ?principal=NAME, and optionally one &until=TIME",
    );
  }
  const until = untils[0] === undefined ? undefined : refusalUntil(untils[0]);
  if (typeof until === "string") return problem(400, until);
  try {
    const ended = await backend.killPrincipal(names[0] as string, until);
    return json({
      ...ended,
      ...(until !== undefined ? { refused_until: new Date(until).toISOString() } : {}),
    });
  } catch (error) {
    return problem(503, (error as Error).message);
  }
}

function eventStream(backend: SessionsBackend, query: SessionQuery, signal: AbortSignal): Response {
  const encoder = new TextEncoder();
  let stop = () => {};
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const send = (text: string) => controller.enqueue(encoder.encode(text));
        const unsubscribe = backend.subscribe((event: SessionEvent) => {
          if (!matches(event.session, query)) return;
          if ((controller.desiredSize ?? 0) <= 0) {
            send(
              `event: dropped\ndata: ${JSON.stringify({ event: "dropped", reason: `more than ${MAX_QUEUED_EVENTS} events waiting: reconnect` })}\n\n`,
            );
            stop();
            controller.close();
            return;
          }
          send(`event: ${event.event}\ndata: ${JSON.stringify(event)}\n\n`);
        });
        const heartbeat = setInterval(() => {
          if ((controller.desiredSize ?? 0) > 0) send(": alive\n\n");
        }, HEARTBEAT_MS);
        stop = () => {
          unsubscribe();
          clearInterval(heartbeat);
          signal.removeEventListener("abort", stop);
        };
        signal.addEventListener("abort", stop);
        // The first bytes say the subscription is in place: events from here on are delivered.
        send(": subscribed\n\n");
      },
      cancel() {
        stop();
      },
    },
    new CountQueuingStrategy({ highWaterMark: MAX_QUEUED_EVENTS }),
  );
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream",
      "cache-control": "no-store",
    },
  });
}
