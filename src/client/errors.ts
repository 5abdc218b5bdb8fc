import { type ErrorCode, isErrorCode } from "../protocol/constants.ts";

/** Failures seen on the client's side, where the server sent no error status. */
export type ClientErrorCode =
  /** The WebSocket could not be opened, or dropped without a close frame. */
  | "network_error"
  /** The caller's `AbortSignal` fired. */
  | "aborted"
  /** No `connected` status within the caller's `timeout`. */
  | "timeout"
  /** The server sent something the protocol does not allow (bad greeting or status). */
  | "protocol_error"
  /** The server closed the connection without a protocol error code (capacity, shutdown, lifetime, target failure). */
  | "closed"
  /** The receive queue passed `maxReadableBytes` on a WebSocket that cannot pause reading. */
  | "overflow";

export type Socket2WebErrorCode = ErrorCode | ClientErrorCode;

/** Close code the client sends when its receive queue overflows; private range, never sent by the server. */
export const OVERFLOW_CLOSE_CODE = 4009;

export class Socket2WebError extends Error {
  override readonly name = "Socket2WebError";
  readonly code: Socket2WebErrorCode;
  /** The WebSocket close code, when the connection closed. */
  readonly closeCode: number | undefined;
  /** The server's `reason` (from its status or close frame), or a description of the client-side failure. */
  readonly reason: string;

  constructor(code: Socket2WebErrorCode, reason: string, closeCode?: number, cause?: unknown) {
    super(`${code}: ${reason}`, cause === undefined ? undefined : { cause });
    this.code = code;
    this.reason = reason;
    this.closeCode = closeCode;
  }

  /** Whether the server refused the handshake with one of the protocol's error codes. */
  get isServerError(): boolean {
    return isErrorCode(this.code);
  }
}

export function abortError(signal: AbortSignal): Socket2WebError {
  const why = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? "");
  return new Socket2WebError("aborted", why || "aborted", undefined, signal.reason);
}

/** The error for a close that arrived where no status explained it. */
export function closeError(code: number, reason: string): Socket2WebError {
  // The protocol makes the close reason of a failed handshake exactly its error code.
  if (isErrorCode(reason)) return new Socket2WebError(reason, reason, code);
  if (code === 1006) return new Socket2WebError("network_error", reason || "connection lost", code);
  const detail = reason ? `${code} ${reason}` : String(code);
  return new Socket2WebError("closed", `connection closed with ${detail}`, code);
}
