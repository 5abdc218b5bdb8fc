import type { ProxyError } from "../protocol/errors.ts";

/** The CLOSE packet's reason byte, as wisp-protocol v2 lists them. */
export const WispClose = {
  unknown: 0x01,
  /** The stream ended normally: end of stream from the target, or the client closed it. */
  voluntary: 0x02,
  /** The target connection failed after it was open (reset, error). */
  networkError: 0x03,
  incompatibleExtensions: 0x04,
  /** The CONNECT (or a later packet for the stream) was not valid. */
  invalid: 0x41,
  unreachable: 0x42,
  timeout: 0x43,
  refused: 0x44,
  transferTimeout: 0x47,
  blocked: 0x48,
  throttled: 0x49,
  clientError: 0x81,
  authBadPassword: 0xc0,
  authBadSignature: 0xc1,
  authMissingCredentials: 0xc2,
} as const;
export type WispClose = (typeof WispClose)[keyof typeof WispClose];

/** Connect errors (the errno name in a connect_failed reason) that mean the host cannot be reached. */
const UNREACHABLE =
  /\b(EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EAI_NONAME|ENODATA|ETIMEOUT)\b/;

/**
 * Maps why a stream could not open (the same ProxyError a handshake would get) to a CLOSE reason.
 * A ProxyError carries a code and a human reason; for connect_failed the errno in the reason tells
 * a refusal from an unreachable host, since both share the code in Socket2Web's own protocol.
 */
export function closeReasonFor(error: ProxyError): WispClose {
  switch (error.code) {
    case "invalid_handshake":
    case "unsupported_protocol":
      return WispClose.invalid;
    case "forbidden":
      return WispClose.blocked;
    case "unauthorized":
      return WispClose.authBadPassword;
    case "connect_timeout":
      return WispClose.timeout;
    case "handshake_timeout":
      return WispClose.timeout;
    case "connect_failed":
      if (/\bECONNREFUSED\b/.test(error.message)) return WispClose.refused;
      if (/\bETIMEDOUT\b/.test(error.message)) return WispClose.timeout;
      if (UNREACHABLE.test(error.message) || /resolve|resolved to no address/.test(error.message))
        return WispClose.unreachable;
      return WispClose.networkError;
  }
}
