import type { Server } from "bun";
import { formatHostPort } from "../net/host-port.ts";

/** What the metrics listener answers from; the server (or the workers' supervisor) provides it. */
export interface MetricsSource {
  /** The exposition, and its content type. */
  render(): Promise<string>;
  readonly contentType: string;
  /** False from the shutdown signal on: /readyz answers 503. */
  ready(): boolean;
  /** Live sessions for /healthz; left out where the process does not know (a supervisor). */
  sessions?(): number;
  /** With `--state`: `fleet` while limits are shared, `degraded` while counted alone (/readyz says). */
  limits?(): string;
  /** The sessions API (/sessions…, with --admin-token-file); absent: those paths are off. */
  admin?: AdminRoute | undefined;
}

/**
 * Answers a request under /sessions. `keepOpen` lifts the listener's idle timeout for this
 * request (a stream of events).
 */
export type AdminRoute = (
  request: Request,
  path: string,
  keepOpen: () => void,
) => Promise<Response>;

/** Whether a path belongs to the sessions API. */
const isAdminPath = (path: string) => path === "/sessions" || path.startsWith("/sessions/");

export interface MetricsListener {
  readonly url: string;
  readonly port: number;
  stop(): void;
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const text = (body: string, status: number, headers: Record<string, string> = {}) =>
  new Response(`${body}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });

/** The path of a request, or undefined when Bun could not make a URL of it (a bad Host). */
function pathOf(request: Request): string | undefined {
  try {
    return new URL(request.url).pathname;
  } catch {
    return undefined;
  }
}

/** Answers one request of the metrics listener (exported for in-process tests). */
export async function answerMetricsRequest(
  request: Request,
  source: MetricsSource,
  keepOpen: () => void = () => {},
): Promise<Response> {
  const path = pathOf(request);
  if (path === undefined) return text("400 Bad Request: no valid Host header", 400);
  if (isAdminPath(path)) {
    if (source.admin) return source.admin(request, path, keepOpen);
    return text(
      "404 Not Found: the sessions API is off; turn it on with --admin-token-file FILE",
      404,
    );
  }
  if (path !== "/metrics" && path !== "/healthz" && path !== "/readyz") {
    return text("404 Not Found: this listener serves /metrics, /healthz and /readyz", 404);
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    return text("405 Method Not Allowed: use GET or HEAD", 405, { allow: "GET, HEAD" });
  }
  if (path === "/healthz") {
    return json(source.sessions ? { status: "ok", sessions: source.sessions() } : { status: "ok" });
  }
  if (path === "/readyz") {
    // A store that is down degrades the limits, not the service: still ready, and says so.
    const limits = source.limits?.();
    return source.ready()
      ? json({ status: "ready", ...(limits ? { limits } : {}) })
      : json({ status: "shutting down" }, 503);
  }
  const body = await source.render();
  return new Response(request.method === "HEAD" ? null : body, {
    headers: { "content-type": source.contentType },
  });
}

/**
 * The separate listener of --metrics-listen: /metrics, /healthz and /readyz only, never proxying.
 * It stays up through shutdown, so that /readyz can say 503 until the process exits.
 */
export function startMetricsListener(
  hostname: string,
  port: number,
  source: MetricsSource,
): MetricsListener {
  const server: Server<undefined> = Bun.serve({
    hostname,
    port,
    development: false,
    fetch: (request, server) =>
      answerMetricsRequest(request, source, () => server.timeout(request, 0)),
    // Never Bun's development page: nothing about the process leaks to a scraper.
    error: () => text("500 Internal Server Error", 500),
  });
  const bound = server.port as number;
  return {
    url: `http://${formatHostPort(hostname, bound)}`,
    port: bound,
    stop: () => void server.stop(true),
  };
}
