import { jsonResponse, textResponse } from "../admission/responses.ts";
import type { Logger } from "../log/logger.ts";
import type { ProxyMetrics, RefusalReason } from "../metrics/metrics.ts";

export interface RouteHandlers {
  ready(): boolean;
  /** With `--state`: `fleet` or `degraded`, for /readyz. */
  limits?: (() => string) | undefined;
  sessions(): number;
  /** Present when --metrics is on. */
  metrics: ProxyMetrics | undefined;
  /** Present when a page is served (--console). */
  page?: PageRoute | undefined;
  /**
   * Admits and upgrades the request: undefined once upgraded, else the refusal (403, 401, 404,
   * 502, 504, or 400 for a subprotocol it does not take or an invalid WebSocket upgrade).
   */
  upgrade(): Promise<Response | undefined>;
  /** Counts a request refused here, with its reason (metrics). */
  refused(reason: RefusalReason): void;
  logger: Logger;
}

/** A page served beside the proxy: its response, or undefined for a request it does not serve. */
export type PageRoute = (request: Request) => Response | undefined;

/** The health endpoints answer these; anything else is 405. */
const READ_METHODS = new Set(["GET", "HEAD"]);

/**
 * The request's path, or null when its URL cannot be formed: Bun builds `request.url` from the
 * Host header, and a request without a valid one (HTTP/1.0 without Host, `Host: a b`) has none.
 */
function pathOf(request: Request): string | null {
  try {
    return new URL(request.url).pathname;
  } catch {
    return null;
  }
}

/**
 * Paths asked for by something that is not a WebSocket client (a scraper, a browser fetching an
 * icon): a 404 that says why beats "426 Upgrade Required".
 */
const NOT_HERE: Readonly<Record<string, string>> = {
  "/metrics":
    "404 Not Found: metrics are off on this port; serve them here with --metrics, or on a listener of their own with --metrics-listen ADDR:PORT",
  "/favicon.ico": "404 Not Found: no icon here",
};

const methodNotAllowed = () =>
  textResponse("405 Method Not Allowed: use GET or HEAD", 405, { allow: "GET, HEAD" });

/** The HTTP side of the server: health endpoints, and WebSocket upgrades on every other path. */
export function routeRequest(
  request: Request,
  handlers: RouteHandlers,
): Response | Promise<Response | undefined> {
  const pathname = pathOf(request);
  if (pathname === null) {
    handlers.logger.debug(`refused a request without a valid Host header: ${request.method}`);
    handlers.refused("bad_request");
    return textResponse("400 Bad Request: a valid Host header is required", 400);
  }
  const reads = READ_METHODS.has(request.method);
  if (pathname === "/healthz") {
    return reads
      ? jsonResponse({ status: "ok", sessions: handlers.sessions() })
      : methodNotAllowed();
  }
  if (pathname === "/readyz") {
    if (!reads) return methodNotAllowed();
    const limits = handlers.limits?.();
    return handlers.ready()
      ? jsonResponse({ status: "ready", ...(limits ? { limits } : {}) })
      : jsonResponse({ status: "shutting down" }, 503);
  }
  const { metrics } = handlers;
  if (pathname === "/metrics" && metrics && reads) {
    return metrics
      .render()
      .then((body) => new Response(body, { headers: { "content-type": metrics.contentType } }));
  }
  // The page route answers the methods it serves (GET and HEAD, and a POST of its own).
  const page = handlers.page?.(request);
  if (page) return page;
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    const missing = NOT_HERE[pathname];
    if (missing !== undefined) return textResponse(missing, 404);
    return textResponse(
      "426 Upgrade Required: this is a WebSocket endpoint (see /healthz for health)",
      426,
      {
        upgrade: "websocket",
      },
    );
  }
  if (!handlers.ready()) {
    handlers.refused("shutdown");
    return textResponse("503 Service Unavailable: shutting down", 503);
  }
  return handlers.upgrade();
}

export const notAnUpgrade = () =>
  textResponse("400 Bad Request: not a valid WebSocket upgrade", 400);
