import { CLOSED_BY } from "../log/closed-by.ts";
import { CloseCode } from "../protocol/constants.ts";

/**
 * Every label value comes from a closed set, so that no client can grow the number of series: a
 * value outside the set is reported as `other` (issue: 200 clients once made 200 series).
 */
export const OTHER = "other";
/** A session that ended before it had a value for the label (no handshake, no close code). */
export const NONE = "none";

/** The client protocols a connection or stream comes in by (`frontend` label). */
export const FRONT_ENDS = ["socket2web", "raw", "wisp"] as const;
export type FrontEndName = (typeof FRONT_ENDS)[number];

/** Why a connection was refused before it became a session; the caller names it where it decides. */
export const REFUSAL_REASONS = [
  /** The Origin header is not allowed (HTTP 403). */
  "origin",
  /** A credential was required and missing or invalid (HTTP 401). */
  "credential",
  /** --max-connections reached (close 1013). */
  "capacity",
  /** --max-connections-per-ip reached (close 1013). */
  "per_ip",
  /** --rate-limit exceeded, or an access rule's rate (close 1013). */
  "rate_limit",
  /** An access rule's max_sessions for the principal reached (close 1013). */
  "principal_limit",
  /** The server is shutting down (HTTP 503 or close 1001). */
  "shutdown",
  /** `--state-fallback refuse` while the shared store is unreachable (close 1013). */
  "state_unavailable",
  /** Not a WebSocket upgrade the server accepts (HTTP 400: bad Host, subprotocol offered, …). */
  "bad_request",
  /** Raw sessions, whose target is opened before the upgrade: no route or token for the path. */
  "unknown_target",
  /** Raw sessions: the policy or the credential refused the target. */
  "forbidden",
  /** Raw sessions: the target could not be opened, or not in time. */
  "connect_failed",
  "connect_timeout",
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/**
 * Close codes that get their own series: RFC 6455's registered codes and this protocol's own
 * (docs/protocol.md). Anything else a client sends is `other`.
 */
const KNOWN_CLOSE_CODES: ReadonlySet<number> = new Set([
  1000,
  1001,
  1002,
  1003,
  1005,
  1006,
  1007,
  1008,
  1009,
  1010,
  1011,
  1012,
  1013,
  1014,
  1015,
  ...Object.values(CloseCode),
]);

export function closeCodeLabel(code: number | undefined): string {
  if (code === undefined) return NONE;
  return KNOWN_CLOSE_CODES.has(code) ? String(code) : OTHER;
}

/** Who closed a session: `client`, `server` or `target` (anything else, from a bug, is `other`). */
export function closedByLabel(by: string): string {
  return (CLOSED_BY as readonly string[]).includes(by) ? by : OTHER;
}

/** The adapter names the server registered; a session with no protocol yet is `none`. */
export function protocolLabeller(
  known: readonly string[],
): (protocol: string | undefined) => string {
  const names = new Set(known);
  return (protocol) => {
    if (protocol === undefined) return NONE;
    return names.has(protocol) ? protocol : OTHER;
  };
}

/** How an attempt to open a target ended. */
export const CONNECT_OUTCOMES = ["connected", "failed", "timeout"] as const;
export type ConnectOutcome = (typeof CONNECT_OUTCOMES)[number];
