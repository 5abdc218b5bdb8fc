import { parseGreeting, type SupportedProtocols } from "../../client/messages.ts";
import { CONSOLE_PATHS } from "../paths.ts";

/** How long the page waits for the greeting before saying the proxy does not answer. */
const GREETING_TIMEOUT_MS = 10_000;

/**
 * Reads the server's greeting on a short-lived WebSocket, closed as soon as it arrives, so the
 * form can offer the protocols and their fields before any session starts.
 */
export function fetchGreeting(url: string): Promise<SupportedProtocols> {
  return new Promise<SupportedProtocols>((resolve, reject) => {
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
    ws.addEventListener("close", (event) => {
      const closed = `the proxy closed the WebSocket (${event.code}${event.reason ? ` ${event.reason}` : ""}) before its greeting`;
      if (event.code !== ABNORMAL_CLOSURE) {
        finish(new Error(closed));
        return;
      }
      clearTimeout(timer);
      whyRefused().then((why) => finish(new Error(why ?? closed)));
    });
  });
}

/** What a browser reports for a WebSocket whose upgrade was refused (or whose link broke). */
export const ABNORMAL_CLOSURE = 1006;

/**
 * Why the proxy refused this page's WebSocket before opening it, when it says: the browser shows
 * the page only close code 1006, so the page asks the console's admission path, then /readyz.
 */
export async function whyRefused(): Promise<string | undefined> {
  try {
    const answer = await fetch(CONSOLE_PATHS.admission, { method: "POST" });
    if (answer.ok) {
      const { refused } = (await answer.json()) as { refused: string | null };
      if (refused) return `the proxy refused the WebSocket: ${refused}`;
    }
    if ((await fetch("/readyz")).status === 503) {
      return "the proxy refused the WebSocket: it is shutting down";
    }
  } catch {
    // The proxy is gone altogether: the close code is all there is to say.
  }
  return undefined;
}

/** The proxy this page came from: same host, ws or wss as the page. */
export function proxyUrl(location: Location): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/`;
}
