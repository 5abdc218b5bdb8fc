import { credentialFailure } from "../auth/credentials.ts";
import type { RefusalReason } from "../metrics/labels.ts";
import {
  CloseCode,
  CloseReason,
  ERROR_CLOSE_CODES,
  type ErrorCode,
} from "../protocol/constants.ts";
import { ProxyError } from "../protocol/errors.ts";
import { WispClose } from "../protocol/wisp-close.ts";
import { textResponse } from "./responses.ts";

/**
 * Why admission stops a connection or a stream. The protocol's own error codes (a status frame's
 * `error`) and the refusals decided before a target is chosen share one table.
 */
export type RefusalCode =
  | ErrorCode
  | "origin"
  | "rate_limit"
  | "capacity"
  | "per_ip"
  | "principal_limit"
  | "shutdown"
  | "state_unavailable"
  | "bad_request"
  | "unknown_target";

/** How one refusal shows on each kind of wire, and how it is counted. */
export interface RefusalRow {
  /** Before the upgrade: the HTTP status. */
  readonly http: 400 | 401 | 403 | 404 | 408 | 429 | 502 | 503 | 504;
  /** After the upgrade: the WebSocket close code. */
  readonly close: number;
  /** On a Wisp stream: the CLOSE reason (connect_failed is refined by the errno, see below). */
  readonly wisp: WispClose;
  /** The `reason` label of `socket2web_refused_total`. */
  readonly metric: RefusalReason;
}

/**
 * The one table: every refusal, on every front end, is answered from here. The close codes of the
 * protocol's error codes are ERROR_CLOSE_CODES (the wire contract the client library shares).
 */
export const REFUSALS: { readonly [Code in RefusalCode]: RefusalRow } = {
  invalid_handshake: {
    http: 400,
    close: ERROR_CLOSE_CODES.invalid_handshake,
    wisp: WispClose.invalid,
    metric: "bad_request",
  },
  unsupported_protocol: {
    http: 400,
    close: ERROR_CLOSE_CODES.unsupported_protocol,
    wisp: WispClose.invalid,
    metric: "bad_request",
  },
  unauthorized: {
    http: 401,
    close: ERROR_CLOSE_CODES.unauthorized,
    wisp: WispClose.authBadPassword,
    metric: "credential",
  },
  forbidden: {
    http: 403,
    close: ERROR_CLOSE_CODES.forbidden,
    wisp: WispClose.blocked,
    metric: "forbidden",
  },
  handshake_timeout: {
    http: 408,
    close: ERROR_CLOSE_CODES.handshake_timeout,
    wisp: WispClose.timeout,
    metric: "bad_request",
  },
  connect_failed: {
    http: 502,
    close: ERROR_CLOSE_CODES.connect_failed,
    wisp: WispClose.networkError,
    metric: "connect_failed",
  },
  connect_timeout: {
    http: 504,
    close: ERROR_CLOSE_CODES.connect_timeout,
    wisp: WispClose.timeout,
    metric: "connect_timeout",
  },
  origin: { http: 403, close: CloseCode.forbidden, wisp: WispClose.blocked, metric: "origin" },
  rate_limit: {
    http: 429,
    close: CloseCode.tryAgainLater,
    wisp: WispClose.throttled,
    metric: "rate_limit",
  },
  capacity: {
    http: 503,
    close: CloseCode.tryAgainLater,
    wisp: WispClose.throttled,
    metric: "capacity",
  },
  per_ip: {
    http: 429,
    close: CloseCode.tryAgainLater,
    wisp: WispClose.throttled,
    metric: "per_ip",
  },
  state_unavailable: {
    http: 503,
    close: CloseCode.tryAgainLater,
    wisp: WispClose.throttled,
    metric: "state_unavailable",
  },
  principal_limit: {
    http: 429,
    close: CloseCode.tryAgainLater,
    wisp: WispClose.throttled,
    metric: "principal_limit",
  },
  shutdown: {
    http: 503,
    close: CloseCode.goingAway,
    wisp: WispClose.voluntary,
    metric: "shutdown",
  },
  bad_request: {
    http: 400,
    close: CloseCode.badHandshake,
    wisp: WispClose.invalid,
    metric: "bad_request",
  },
  unknown_target: {
    http: 404,
    close: CloseCode.badHandshake,
    wisp: WispClose.invalid,
    metric: "unknown_target",
  },
};

const HTTP_TEXT: { readonly [Status in RefusalRow["http"]]: string } = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  408: "Request Timeout",
  429: "Too Many Requests",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** A credential is required and none came: the client is told that class, the log `logReason`. */
export function missingCredential(logReason: string): Refusal {
  return new Refusal(
    "unauthorized",
    credentialFailure("missing", logReason).clientReason,
    logReason,
  );
}

/** The close reasons of the refusals that close with 1013 or 1001 (docs/protocol.md). */
const CLOSE_TEXT: Partial<Record<RefusalCode, string>> = {
  rate_limit: CloseReason.rateLimited,
  capacity: CloseReason.atCapacity,
  per_ip: CloseReason.perIpLimit,
  principal_limit: CloseReason.principalLimit,
  shutdown: CloseReason.shuttingDown,
  state_unavailable: CloseReason.stateUnavailable,
};

/** Connect errors (the errno name in a connect_failed reason) that mean the host cannot be reached. */
const UNREACHABLE =
  /\b(EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EAI_NONAME|ENODATA|ETIMEOUT)\b/;

/** Seconds a client refused for capacity or rate should wait before trying again. */
const RETRY_AFTER_SECONDS = 1;

/**
 * The one refusal type. `message` is what the client may read; `logReason` may name rules or
 * ticket failures for the operator's log, never a credential.
 */
export class Refusal extends Error {
  override readonly name = "Refusal";
  readonly logReason: string;

  constructor(
    readonly code: RefusalCode,
    message: string,
    logReason?: string,
  ) {
    super(message);
    this.logReason = logReason ?? message;
  }

  /** The refusal a protocol error stands for (its status frame's `error` is the code). */
  static of(error: ProxyError): Refusal {
    return new Refusal(error.code, error.message, logReasonOf(error));
  }

  get row(): RefusalRow {
    return REFUSALS[this.code];
  }

  get closeCode(): number {
    return this.row.close;
  }

  /** The WebSocket close reason: the fixed sentence of a 1013/1001, else the message. */
  get closeReason(): string {
    return CLOSE_TEXT[this.code] ?? this.message;
  }

  /** A connect_failed CLOSE tells a refusal from an unreachable host by the errno in its reason. */
  get wispReason(): WispClose {
    if (this.code !== "connect_failed") return this.row.wisp;
    const text = this.message;
    if (/\bECONNREFUSED\b/.test(text)) return WispClose.refused;
    if (/\bETIMEDOUT\b/.test(text)) return WispClose.timeout;
    if (UNREACHABLE.test(text) || /resolve|resolved to no address/.test(text)) {
      return WispClose.unreachable;
    }
    return WispClose.networkError;
  }

  /** The protocol error a status frame reports, for refusals that have one. */
  get protocolError(): ProxyError | undefined {
    const code = this.code;
    return Object.hasOwn(ERROR_CLOSE_CODES, code)
      ? new ProxyError(code as ErrorCode, this.message)
      : undefined;
  }

  /** The answer before the upgrade: `STATUS Text: message`, with the headers its status calls for. */
  response(): Response {
    const status = this.row.http;
    const headers: Record<string, string> = {};
    if (status === 401) headers["www-authenticate"] = 'Bearer realm="socket2web"';
    if (status === 429 || status === 503) {
      headers["retry-after"] = String(RETRY_AFTER_SECONDS);
      headers.connection = "close";
    }
    return textResponse(`${status} ${HTTP_TEXT[status]}: ${this.message}`, status, headers);
  }
}

function logReasonOf(error: ProxyError): string {
  const logReason = (error as { logReason?: unknown }).logReason;
  return typeof logReason === "string" ? logReason : error.message;
}
