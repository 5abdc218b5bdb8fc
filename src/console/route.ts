import { buildConsolePage } from "./bundle.ts" with { type: "macro" };
import { CONSOLE_PATHS } from "./paths.ts";

/**
 * The console page's HTTP side: `GET /` and its two assets, all embedded in the executable
 * (the macro above inlines them when the code is bundled), and `POST /console/admission`.
 * Mount with one line: a request it does not serve gets undefined, and WebSocket upgrades on
 * `/` pass through untouched.
 */

const PAGE = buildConsolePage();

export { CONSOLE_PATHS };

/** Why the server would refuse this request's WebSocket upgrade, or undefined if it would not. */
export type RefusalCheck = (request: Request) => string | undefined;

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Socket2Web console</title>
<link rel="stylesheet" href="${CONSOLE_PATHS.style}">
<script type="module" src="${CONSOLE_PATHS.script}"></script>
</head>
<body></body>
</html>
`;

/** Nothing but this origin: no inline script, no framing, WebSockets only back to the proxy. */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

const ASSETS: Record<string, { body: string; type: string }> = {
  [CONSOLE_PATHS.page]: { body: HTML, type: "text/html; charset=utf-8" },
  [CONSOLE_PATHS.script]: { body: PAGE.script, type: "text/javascript; charset=utf-8" },
  [CONSOLE_PATHS.style]: { body: PAGE.style, type: "text/css; charset=utf-8" },
};

export type ConsoleRoute = (request: Request) => Response | undefined;

export function createConsoleRoute(refusal: RefusalCheck = () => undefined): ConsoleRoute {
  return (request) => {
    const path = new URL(request.url).pathname;
    if (path === CONSOLE_PATHS.admission && request.method === "POST") {
      return Response.json({ refused: refusal(request) ?? null }, { headers: SECURITY_HEADERS });
    }
    if (request.method !== "GET" && request.method !== "HEAD") return undefined;
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") return undefined;
    const asset = ASSETS[path];
    if (!asset) return undefined;
    return new Response(asset.body, {
      headers: { "content-type": asset.type, ...SECURITY_HEADERS },
    });
  };
}
