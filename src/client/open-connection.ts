import type { ErrorStatus } from "../protocol/constants.ts";
import { Connection, type HandshakeForm, type StreamOptions } from "./connection.ts";
import { abortError, closeError, Socket2WebError } from "./errors.ts";
import {
  checkFields,
  type FieldValues,
  type HandshakeFields,
  handshakeMessage,
  handshakeUrl,
  isGreeting,
  parseGreeting,
  parseStatus,
  type SupportedProtocols,
} from "./messages.ts";
import { CONNECTING, OPEN } from "./ready-state.ts";

/**
 * How the handshake reaches the server: `"url"` puts it in the upgrade URL's query and saves a
 * round trip where the server supports it (a server that greets instead gets the message form);
 * `"message"` always waits for the greeting and sends the handshake as a message.
 */
export interface ConnectOptions extends StreamOptions {
  /** An adapter named in the greeting, such as `"tcp"`. */
  protocol: string;
  /** The protocol's handshake fields, as its greeting entry names them: `{ target_path }` for unix. */
  fields?: FieldValues;
  /** Shorthand for `fields.target_ip` (tcp and other network protocols). */
  target_ip?: string;
  /** Shorthand for `fields.target_port`. */
  target_port?: number;
  /** Default `"url"`, falling back to the message form against a server that greets. */
  handshake?: HandshakeForm;
  /** Sent in the handshake's `token` field, where the server requires a credential. */
  token?: string;
  /** Aborts the attempt; after `connected`, closes the connection and errors its readable. */
  signal?: AbortSignal;
  /** Milliseconds from opening the WebSocket to the `connected` status. Default 30 000; 0 waits forever. */
  timeout?: number;
  /** Opens the WebSocket; the default is `new WebSocket(url)`. Lets Bun pass TLS options. */
  webSocket?: (url: string) => WebSocket;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;

/** How long to wait for the close frame that follows an error status, to report its code. */
const CLOSE_AFTER_ERROR_MS = 2_000;

/** `first` is a URL-form attempt's first frame: a status, or a greeting from an older server. */
type Phase = "first" | "greeting" | "status" | "failed" | "settled";

/** The handshake's parts from the options: the shorthands merged into the protocol's fields. */
export function handshakeFields(options: ConnectOptions): HandshakeFields {
  const fields: FieldValues = { ...options.fields };
  if (options.target_ip !== undefined) fields.target_ip = options.target_ip;
  if (options.target_port !== undefined) fields.target_port = options.target_port;
  checkFields(fields);
  return { protocol: options.protocol, fields, token: options.token };
}

/** Browsers and Bun have a global WebSocket; Node.js has one from version 22 on (20.10 behind a flag). */
const NO_WEBSOCKET =
  "this runtime has no WebSocket: use Node.js 22 or later, or run Node.js 20 (20.10 or later) with --experimental-websocket";

/**
 * Opens a WebSocket to a Socket2Web server, sends the handshake and resolves once the
 * status is `connected`. Rejects with a `Socket2WebError`: the server's error code
 * (`forbidden`, `connect_failed`…) or a client-side one (`network_error`, `aborted`…).
 */
export function connect(url: string | URL, options: ConnectOptions): Promise<Connection> {
  return new Promise<Connection>((resolve, reject) => {
    const { signal } = options;
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    if (options.webSocket === undefined && typeof WebSocket === "undefined") {
      reject(new Socket2WebError("network_error", NO_WEBSOCKET));
      return;
    }
    let ws: WebSocket;
    let handshake: HandshakeFields;
    const form = options.handshake ?? "url";
    try {
      handshake = handshakeFields(options);
    } catch (error) {
      reject(error);
      return;
    }
    try {
      const target = form === "url" ? String(handshakeUrl(url, handshake)) : String(url);
      ws = options.webSocket ? options.webSocket(target) : new WebSocket(target);
    } catch (error) {
      reject(new Socket2WebError("network_error", describe(error), undefined, error));
      return;
    }
    ws.binaryType = "arraybuffer";

    let phase: Phase = form === "url" ? "first" : "greeting";
    let usedForm: HandshakeForm = form;
    let protocols: SupportedProtocols = {};
    let refusal: ErrorStatus | undefined;
    let opened = false;
    const timeoutMs = options.timeout ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const deadline =
      timeoutMs > 0
        ? setTimeout(
            () => fail(new Socket2WebError("timeout", `not connected after ${timeoutMs} ms`)),
            timeoutMs,
          )
        : undefined;
    let closeWait: ReturnType<typeof setTimeout> | undefined;

    const detach = () => {
      clearTimeout(deadline);
      clearTimeout(closeWait);
      signal?.removeEventListener("abort", onAbort);
      ws.removeEventListener("open", onOpen);
      ws.removeEventListener("message", onMessage);
      ws.removeEventListener("close", onClose);
      ws.removeEventListener("error", onError);
    };
    const fail = (error: Socket2WebError) => {
      if (phase === "settled") return;
      phase = "settled";
      detach();
      if (ws.readyState === CONNECTING || ws.readyState === OPEN) ws.close();
      reject(error);
    };
    const refused = (status: ErrorStatus, closeCode: number | undefined) =>
      fail(new Socket2WebError(status.error, status.reason, closeCode));

    const onAbort = () => {
      if (signal) fail(abortError(signal));
    };
    const onOpen = () => {
      opened = true;
    };
    const onError = (event: Event) => {
      // After an error status, the close frame that follows is what matters.
      if (phase === "failed") return;
      const message = (event as Partial<ErrorEvent>).message;
      fail(new Socket2WebError("network_error", message || `WebSocket to ${String(url)} failed`));
    };
    const onClose = (event: CloseEvent) => {
      if (refusal) refused(refusal, event.code);
      else if (!opened)
        fail(new Socket2WebError("network_error", event.reason || "could not connect", event.code));
      else fail(closeError(event.code, event.reason));
    };
    const onMessage = (event: MessageEvent) => {
      try {
        if (typeof event.data !== "string") {
          throw new Socket2WebError("protocol_error", `binary frame before the ${phase}`);
        }
        if (phase === "first" && isGreeting(event.data)) {
          usedForm = "message";
          phase = "greeting";
        }
        if (phase === "greeting") {
          protocols = parseGreeting(event.data);
          phase = "status";
          ws.send(handshakeMessage(handshake));
          return;
        }
        if (phase !== "status" && phase !== "first") return;
        const status = parseStatus(event.data);
        if (status.status === "error") {
          phase = "failed";
          refusal = status;
          const known = status;
          closeWait = setTimeout(() => refused(known, undefined), CLOSE_AFTER_ERROR_MS);
          return;
        }
        phase = "settled";
        detach();
        // Attached in this same event, so no later frame can be missed.
        resolve(new Connection(ws, protocols, status, options, signal, usedForm));
      } catch (error) {
        fail(
          error instanceof Socket2WebError
            ? error
            : new Socket2WebError("protocol_error", describe(error), undefined, error),
        );
      }
    };

    signal?.addEventListener("abort", onAbort, { once: true });
    ws.addEventListener("open", onOpen);
    ws.addEventListener("message", onMessage);
    ws.addEventListener("close", onClose);
    ws.addEventListener("error", onError);
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
