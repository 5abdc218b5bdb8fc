// The wire contract of docs/protocol.md, shared by the server and the client library.
// Browser-safe: no runtime imports.

/** Key of the greeting object, with a space, as the protocol writes it. */
export const GREETING_KEY = "supported protocols";

/** A handshake of this many UTF-8 bytes or fewer is never rejected for its size. */
export const MAX_HANDSHAKE_BYTES = 8192;

export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;

export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  /** RFC 6455: the peer broke the framing of the protocol it speaks (a malformed Wisp packet). */
  protocolError: 1002,
  /** RFC 6455: a kind of message the endpoint does not take (a text frame on Wisp). */
  unsupportedData: 1003,
  internalError: 1011,
  messageTooBig: 1009,
  tryAgainLater: 1013,
  maxLifetime: 4000,
  idleTimeout: 4001,
  /** An operator ended the session through the admin API (`DELETE /sessions/…`). */
  endedByOperator: 4100,
  badHandshake: 4400,
  unauthorized: 4401,
  forbidden: 4403,
  handshakeTimeout: 4408,
  connectFailed: 4502,
  connectTimeout: 4504,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Machine-readable `error` of a failed status, with the close code that follows it. */
export const ERROR_CLOSE_CODES = {
  invalid_handshake: CloseCode.badHandshake,
  unsupported_protocol: CloseCode.badHandshake,
  unauthorized: CloseCode.unauthorized,
  forbidden: CloseCode.forbidden,
  handshake_timeout: CloseCode.handshakeTimeout,
  connect_failed: CloseCode.connectFailed,
  connect_timeout: CloseCode.connectTimeout,
} as const;
export type ErrorCode = keyof typeof ERROR_CLOSE_CODES;

export const CloseReason = {
  atCapacity: "server at capacity, try again later",
  /** Both close with 1013, like capacity: the client may retry later. */
  rateLimited: "too many connection attempts from your address, try again later",
  perIpLimit: "too many connections from your address, try again later",
  /** Close 1013 with `--state-fallback refuse` while the shared store is unreachable. */
  stateUnavailable: "connection limits unavailable, try again later",
  /** An access rule's max_sessions: 1013 too, the principal may retry once a session ends. */
  principalLimit: "too many sessions for your principal, try again later",
  maxLifetime: "max lifetime reached",
  idleTimeout: "idle timeout",
  endedByOperator: "ended by operator",
  shuttingDown: "server shutting down",
  targetClosed: "target closed",
  targetFailed: "target failed",
  internalError: "internal error",
} as const;

export interface HandshakeFieldDescriptions {
  readonly [field: string]: string;
}

export interface Greeting {
  [GREETING_KEY]: Record<string, HandshakeFieldDescriptions>;
  server?: string;
}

export interface ConnectedStatus {
  status: "connected";
  protocol: string;
  [field: string]: unknown;
}

export interface ErrorStatus {
  status: "error";
  error: ErrorCode;
  reason: string;
}

export type Status = ConnectedStatus | ErrorStatus;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CLOSE_CODES, value);
}
