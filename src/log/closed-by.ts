/**
 * Which side ended a session. The close code alone cannot say: a client may close its WebSocket
 * with any code, including the protocol's own (4403 forbidden), and that is not the server's
 * verdict.
 */
export const CLOSED_BY = [
  /** The client closed the WebSocket (or the Wisp stream) or went away: its code, its choice. */
  "client",
  /** The server ended it: a refusal, a timeout, a shutdown, an internal error. */
  "server",
  /** The target ended or failed, and the server closed the client with 1000 or 1011. */
  "target",
] as const;
export type ClosedBy = (typeof CLOSED_BY)[number];
