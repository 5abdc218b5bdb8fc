import type { FixedTarget } from "../net/target-text.ts";
import { parseWsproxyTarget } from "./wsproxy.ts";

/** What an upgrade's path under the Wisp prefix asks for. */
export type WispEndpoint =
  /** `PREFIX` or `PREFIX<credential>/`: a Wisp connection. */
  | { readonly kind: "wisp"; readonly credential: string | undefined }
  /** `PREFIX<host:port>` or `PREFIX<credential>/<host:port>`: one raw TCP stream (wsproxy). */
  | {
      readonly kind: "wsproxy";
      readonly credential: string | undefined;
      readonly target: FixedTarget;
    }
  | { readonly kind: "invalid"; readonly reason: string };

/**
 * Reads the path of an upgrade under `prefix` (which ends in `/`); undefined when the path is not
 * under it. A Wisp URL ends in `/` and a wsproxy URL in `host:port`, as wisp-protocol says. One
 * path segment between the prefix and that end is a credential (a token or ticket) for clients
 * that can set no header and have no password extension: Wisp 1 clients such as libcurl.js.
 */
export function matchWispPath(prefix: string, pathname: string): WispEndpoint | undefined {
  if (!pathname.startsWith(prefix)) return undefined;
  const segments = pathname.slice(prefix.length).split("/");
  if (segments.length > 2) {
    return {
      kind: "invalid",
      reason: "expected PREFIX[credential/] or PREFIX[credential/]host:port",
    };
  }
  const [first = "", second] = segments;
  if (second === undefined) {
    if (first === "") return { kind: "wisp", credential: undefined };
    return wsproxy(undefined, first);
  }
  const credential = decodeSegment(first);
  if (credential === undefined || credential === "") {
    return { kind: "invalid", reason: "the credential segment is empty or badly escaped" };
  }
  if (second === "") return { kind: "wisp", credential };
  return wsproxy(credential, second);
}

function wsproxy(credential: string | undefined, segment: string): WispEndpoint {
  const target = parseWsproxyTarget(segment);
  return typeof target === "string"
    ? { kind: "invalid", reason: target }
    : { kind: "wsproxy", credential, target };
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * The subprotocol to answer a Wisp upgrade with: the client's first offer. wisp-protocol v2 makes
 * the header's presence (any value) mean Wisp 2; wisp-js offers `wisp-v2`, and a browser fails the
 * upgrade unless the server picks one of its offers.
 */
export function wispSubprotocol(header: string | null): string | undefined {
  const first = header?.split(",")[0]?.trim();
  return first ? first : undefined;
}
