import { Socket2WebError } from "../index.ts";
import { isGreeting, parseGreeting } from "../messages.ts";
import type { ProxyEndpointOptions } from "./client-options.ts";
import { webSocketFactory } from "./client-socket.ts";
import { explainFailure, NO_CREDENTIAL_PROBE } from "./refusal.ts";

export type ServerCheck = { ok: true } | { ok: false; problem: string };

/** A credential that can travel in a header (tokens and tickets are visible ASCII). */
const BEARER_VALUE = /^[\x21-\x7e]+$/;

/**
 * The check's upgrade headers: the user's, plus the credential as `Authorization: Bearer`, which
 * the server verifies before the upgrade (sessions send it in the handshake, after it). Without
 * `--token`, a placeholder that only a server requiring a credential refuses. A user's own
 * Authorization header (`--header`) is sent as it is.
 */
export function checkHeaders(
  options: Pick<ProxyEndpointOptions, "headers" | "token">,
): Record<string, string> {
  const { headers, token } = options;
  if (Object.keys(headers).some((name) => name.toLowerCase() === "authorization")) return headers;
  if (token !== undefined && !BEARER_VALUE.test(token)) return headers;
  return { ...headers, Authorization: `Bearer ${token ?? NO_CREDENTIAL_PROBE}` };
}

/**
 * `forward` asks the server once at start-up, so that a wrong `--server`, a missing or refused
 * credential or an Origin the server refuses is reported then, not as "connection reset" to
 * each local client later. An upgrade without handshake parameters gets the greeting, which also
 * says whether the protocol is offered; the check then closes (1000) without opening a target.
 */
export async function checkServer(options: ProxyEndpointOptions): Promise<ServerCheck> {
  const probe = { ...options, headers: checkHeaders(options) };
  const webSocket = webSocketFactory(probe);
  const url = new URL(options.server);
  const outcome = await new Promise<
    { greeting: string } | { closed: number; reason: string } | { error: Socket2WebError }
  >((resolve) => {
    let ws: WebSocket;
    try {
      ws = webSocket(String(url));
    } catch (error) {
      resolve({ error: new Socket2WebError("network_error", (error as Error).message) });
      return;
    }
    let opened = false;
    const timer = setTimeout(() => {
      resolve({
        error: new Socket2WebError("timeout", `no greeting within ${options.timeoutMs} ms`),
      });
      ws.close();
    }, options.timeoutMs || 30_000);
    ws.addEventListener("open", () => {
      opened = true;
    });
    ws.addEventListener("message", (event) => {
      clearTimeout(timer);
      resolve({ greeting: typeof event.data === "string" ? event.data : "" });
      ws.close(1000, "start-up check");
    });
    ws.addEventListener("error", (event) => {
      clearTimeout(timer);
      const message = (event as Partial<ErrorEvent>).message || "could not connect";
      resolve({ error: new Socket2WebError("network_error", message) });
    });
    ws.addEventListener("close", (event) => {
      clearTimeout(timer);
      if (opened) resolve({ closed: event.code, reason: event.reason });
      else
        resolve({
          error: new Socket2WebError("network_error", event.reason || "could not connect"),
        });
    });
  });
  if ("error" in outcome) {
    return { ok: false, problem: await explainFailure(probe, url, outcome.error) };
  }
  if ("closed" in outcome) {
    const why = outcome.reason ? `${outcome.closed} ${outcome.reason}` : String(outcome.closed);
    return {
      ok: false,
      problem: `the proxy at ${options.server.href} closed before greeting: ${why}`,
    };
  }
  if (!isGreeting(outcome.greeting)) {
    return {
      ok: false,
      problem: `${options.server.href} did not greet as a Socket2Web server does (is it one?)`,
    };
  }
  let offered: string[];
  try {
    offered = Object.keys(parseGreeting(outcome.greeting));
  } catch (error) {
    return {
      ok: false,
      problem: `${options.server.href} sent a malformed greeting: ${(error as Error).message}`,
    };
  }
  if (!offered.includes(options.protocol)) {
    return {
      ok: false,
      problem: `the proxy at ${options.server.href} does not offer protocol ${JSON.stringify(options.protocol)} (it offers ${offered.join(", ") || "none"})`,
    };
  }
  return { ok: true };
}
