import type { ProxyMetrics } from "../metrics/metrics.ts";
import { jsonResponse, textResponse } from "./responses.ts";

export interface RouteHandlers {
  ready(): boolean;
  sessions(): number;
  /** Present when --metrics is on. */
  metrics: ProxyMetrics | undefined;
  /**
   * Admits and upgrades the request: undefined once upgraded, else the refusal (403, 401, or 400
   * when it was not a valid WebSocket upgrade).
   */
  upgrade(): Promise<Response | undefined>;
}

/** The HTTP side of the server: health endpoints, and WebSocket upgrades on every other path. */
export function routeRequest(
  request: Request,
  handlers: RouteHandlers,
): Response | Promise<Response | undefined> {
  const { pathname } = new URL(request.url);
  if (pathname === "/healthz") return jsonResponse({ status: "ok", sessions: handlers.sessions() });
  if (pathname === "/readyz") {
    return handlers.ready()
      ? jsonResponse({ status: "ready" })
      : jsonResponse({ status: "shutting down" }, 503);
  }
  const { metrics } = handlers;
  if (pathname === "/metrics" && metrics && request.method === "GET") {
    return metrics
      .render()
      .then((body) => new Response(body, { headers: { "content-type": metrics.contentType } }));
  }
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return textResponse(
      "426 Upgrade Required: this is a WebSocket endpoint (see /healthz for health)",
      426,
      {
        upgrade: "websocket",
      },
    );
  }
  // Bun would otherwise echo the client's first offered subprotocol, which we do not implement.
  if (request.headers.has("sec-websocket-protocol")) {
    return textResponse(
      "400 Bad Request: socket2web implements no WebSocket subprotocol; offer none",
      400,
    );
  }
  if (!handlers.ready()) return textResponse("503 Service Unavailable: shutting down", 503);
  return handlers.upgrade();
}

export const notAnUpgrade = () =>
  textResponse("400 Bad Request: not a valid WebSocket upgrade", 400);
