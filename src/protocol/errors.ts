import { ERROR_CLOSE_CODES, type ErrorCode } from "./constants.ts";

/** A failure the client is told about: a status frame with `error` and `reason`, then a close. */
export class ProxyError extends Error {
  override readonly name = "ProxyError";
  readonly closeCode: number;

  constructor(
    readonly code: ErrorCode,
    reason: string,
  ) {
    super(reason);
    this.closeCode = ERROR_CLOSE_CODES[code];
  }
}

export const invalidHandshake = (reason: string) => new ProxyError("invalid_handshake", reason);
