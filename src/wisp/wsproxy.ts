import { type FixedTarget, parseTargetText } from "../net/target-text.ts";

/**
 * The target of a wsproxy URL: its last path segment is `host:port` (`[v6]:port` for an IPv6
 * address; percent-escapes decoded), read like a token file's or a route's target. Returns a
 * reason instead when the segment is not of that form.
 */
export function parseWsproxyTarget(segment: string): FixedTarget | string {
  let text: string;
  try {
    text = decodeURIComponent(segment);
  } catch {
    return `"${segment}" is not a valid percent-encoded path segment`;
  }
  return parseTargetText(text);
}
