import { WispClose } from "../../protocol/wisp-close.ts";
import { Socket2WebError } from "../errors.ts";
import { httpReply, type LocalProtocol, SocksReply, socksReply } from "./local-proxy-handshake.ts";

/** Why the proxy could not open a local client's target, in the local protocol's terms. */
export interface LocalFailure {
  readonly socks: SocksReply;
  readonly http: 403 | 502 | 503 | 504;
  /** The server's reason, for the HTTP body and the log line. */
  readonly reason: string;
}

/** Connect errors the server names in a connect_failed reason that mean the host cannot be reached. */
const UNREACHABLE = /\b(EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EAI_NONAME|ENODATA)\b|resolv/i;

/** A refused session of the Socket2Web protocol (one WebSocket per local connection). */
export function failureOfError(error: unknown): LocalFailure {
  if (!(error instanceof Socket2WebError)) {
    return { socks: SocksReply.generalFailure, http: 502, reason: String(error) };
  }
  const reason = error.message;
  switch (error.code) {
    case "forbidden":
    case "unauthorized":
      return { socks: SocksReply.notAllowed, http: 403, reason };
    case "connect_timeout":
    case "timeout":
      return { socks: SocksReply.ttlExpired, http: 504, reason };
    case "connect_failed":
      return UNREACHABLE.test(error.reason)
        ? { socks: SocksReply.hostUnreachable, http: 502, reason }
        : { socks: SocksReply.refused, http: 502, reason };
    // The server found the host name or address itself unacceptable.
    case "invalid_handshake":
    case "unsupported_protocol":
      return { socks: SocksReply.hostUnreachable, http: 502, reason };
    default:
      return { socks: SocksReply.generalFailure, http: 502, reason };
  }
}

const WISP_REASONS: Readonly<Record<number, string>> = {
  [WispClose.invalid]: "the server refused the target as invalid",
  [WispClose.unreachable]: "host unreachable (or its name did not resolve)",
  [WispClose.timeout]: "the target did not accept in time",
  [WispClose.refused]: "the target refused the connection",
  [WispClose.blocked]: "the server's policy does not allow this target",
  [WispClose.throttled]: "the server has too many streams or connection attempts",
  [WispClose.authBadPassword]: "the server refused the credential",
  [WispClose.authMissingCredentials]: "the server requires a credential",
};

/** A Wisp stream closed before it carried a byte (`--mux`): the CLOSE reason says why. */
export function failureOfWispClose(code: number): LocalFailure {
  const reason = `${WISP_REASONS[code] ?? "the stream closed"} (Wisp CLOSE 0x${code.toString(16).padStart(2, "0")})`;
  switch (code) {
    case WispClose.blocked:
    case WispClose.authBadPassword:
    case WispClose.authMissingCredentials:
      return { socks: SocksReply.notAllowed, http: 403, reason };
    case WispClose.unreachable:
    case WispClose.invalid:
      return { socks: SocksReply.hostUnreachable, http: 502, reason };
    case WispClose.refused:
      return { socks: SocksReply.refused, http: 502, reason };
    case WispClose.timeout:
      return { socks: SocksReply.ttlExpired, http: 504, reason };
    case WispClose.throttled:
      return { socks: SocksReply.generalFailure, http: 503, reason };
    default:
      return { socks: SocksReply.generalFailure, http: 502, reason };
  }
}

/** The local protocol's refusal: a SOCKS5 reply code, or an HTTP status with the reason as body. */
export function failureReply(protocol: LocalProtocol, failure: LocalFailure): Uint8Array {
  return protocol === "socks5"
    ? socksReply(failure.socks)
    : httpReply(failure.http, `socket2web: ${failure.reason}`);
}
