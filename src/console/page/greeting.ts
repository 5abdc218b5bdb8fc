import { parseGreeting, type SupportedProtocols } from "../../client/messages.ts";

/** How long the page waits for the greeting before saying the proxy does not answer. */
const GREETING_TIMEOUT_MS = 10_000;

/**
 * Reads the server's greeting on a short-lived WebSocket, closed as soon as it arrives, so the
 * form can offer the protocols and their fields before any session starts.
 */
export function fetchGreeting(url: string): Promise<SupportedProtocols> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(
      () => finish(new Error("no greeting from the proxy")),
      GREETING_TIMEOUT_MS,
    );
    const finish = (result: SupportedProtocols | Error) => {
      clearTimeout(timer);
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)
        ws.close(1000, "greeting read");
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    ws.addEventListener("message", (event) => {
      try {
        finish(parseGreeting(String(event.data)));
      } catch (error) {
        finish(error as Error);
      }
    });
    ws.addEventListener("close", (event) =>
      finish(
        new Error(
          `the proxy closed the WebSocket (${event.code}${event.reason ? ` ${event.reason}` : ""}) before its greeting`,
        ),
      ),
    );
  });
}

/** The proxy this page came from: same host, ws or wss as the page. */
export function proxyUrl(location: Location): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/`;
}
