import { parseGreeting, parseStatus, type SupportedProtocols } from "../client/messages.ts";
import type { Status } from "../protocol/constants.ts";
import { fieldValue } from "./format.ts";

/**
 * One console session: speaks the protocol itself (greeting → handshake → status → bytes)
 * with any protocol's fields, and records what happens for the log and the exports.
 * Runs in the browser; it needs only a global WebSocket.
 */

export type EntryKind = "sent" | "received" | "status" | "error" | "closed" | "note";

export interface LogEntry {
  readonly id: number;
  /** Milliseconds since 1970. */
  readonly time: number;
  readonly kind: EntryKind;
  /** Payload bytes, for sent and received; absent once the recording limit was reached. */
  readonly bytes?: Uint8Array;
  readonly size: number;
  /** What happened, for status, error, closed and note entries. */
  readonly text?: string;
}

export type SessionState = "opening" | "handshake" | "connected" | "closed";

export interface HandshakeRequest {
  readonly protocol: string;
  /** Field name → value as typed (see fieldValue). */
  readonly fields: Readonly<Record<string, string>>;
  readonly token?: string;
}

export interface SessionFailure {
  readonly error: string;
  readonly reason: string;
}

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
  /** The page closed it (the Close button), rather than the server. */
  readonly byPage: boolean;
}

export interface SessionListener {
  entry(entry: LogEntry): void;
  state(state: SessionState): void;
}

/** Payload bytes a session keeps for its log and exports; past it, sizes only. */
export const MAX_RECORDED_BYTES = 32 * 1024 * 1024;
/** Log entries a session keeps; past it, only the counters move. */
export const MAX_ENTRIES = 100_000;
/** Bytes the WebSocket may hold unsent before the console refuses to queue more. */
export const MAX_UNSENT_BYTES = 8 * 1024 * 1024;

export class ConsoleSession {
  state: SessionState = "opening";
  readonly startedAt = Date.now();
  endedAt: number | undefined;
  bytesSent = 0;
  bytesReceived = 0;
  recordedBytes = 0;
  readonly entries: LogEntry[] = [];
  /** True once something was left out of `entries` (payload or whole entries). */
  incomplete = false;
  status: Status | undefined;
  failure: SessionFailure | undefined;
  closeInfo: CloseInfo | undefined;
  protocols: SupportedProtocols = {};

  private readonly ws: WebSocket;
  private nextId = 1;
  private closing = false;
  private readonly listeners = new Set<SessionListener>();

  /**
   * `whyRefused` is asked when the WebSocket closes before it opened (close code 1006, all a
   * browser shows of a refused upgrade): its answer, if any, is logged as the session's failure.
   */
  constructor(
    readonly url: string,
    readonly request: HandshakeRequest,
    private readonly whyRefused?: () => Promise<string | undefined>,
  ) {
    this.ws = new WebSocket(url);
    this.ws.binaryType = "arraybuffer";
    this.ws.addEventListener("message", (event) => this.onMessage(event.data));
    this.ws.addEventListener("close", (event) => this.onClose(event.code, event.reason));
    this.ws.addEventListener("error", () => {
      if (this.state === "opening")
        this.record("error", { text: `could not open a WebSocket to ${url}` });
    });
  }

  listen(listener: SessionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends bytes to the target; returns why not when it cannot. */
  send(bytes: Uint8Array): string | undefined {
    if (this.state !== "connected") return "not connected";
    if (this.ws.bufferedAmount + bytes.byteLength > MAX_UNSENT_BYTES) {
      return `the connection still has ${this.ws.bufferedAmount} bytes to send; wait`;
    }
    this.ws.send(bytes as Uint8Array<ArrayBuffer>);
    this.bytesSent += bytes.byteLength;
    this.record("sent", { bytes });
    return undefined;
  }

  close(): void {
    if (this.state === "closed") return;
    this.closing = true;
    this.ws.close(1000, "closed from the console");
  }

  /** Forgets the log (the counters stay). */
  clear(): void {
    this.entries.length = 0;
    this.recordedBytes = 0;
    this.incomplete = true;
  }

  private onMessage(data: unknown): void {
    if (typeof data === "string") {
      if (this.state === "opening") this.greeting(data);
      else if (this.state === "handshake") this.statusFrame(data);
      else this.received(new TextEncoder().encode(data));
      return;
    }
    if (data instanceof ArrayBuffer) this.received(new Uint8Array(data));
  }

  private greeting(text: string): void {
    try {
      this.protocols = parseGreeting(text);
    } catch (error) {
      this.record("error", {
        text: `the server's greeting is not valid: ${(error as Error).message}`,
      });
      this.ws.close(1002, "bad greeting");
      return;
    }
    this.setState("handshake");
    const message = handshakeMessage(this.request);
    this.ws.send(JSON.stringify(message));
    const shown = message.token === undefined ? message : { ...message, token: "(hidden)" };
    this.record("note", { text: `handshake ${JSON.stringify(shown)}` });
  }

  private statusFrame(text: string): void {
    let status: Status;
    try {
      status = parseStatus(text);
    } catch (error) {
      this.record("error", { text: `unexpected status: ${(error as Error).message}` });
      return;
    }
    this.status = status;
    if (status.status === "error") {
      this.failure = { error: status.error, reason: status.reason };
      this.record("error", { text: `${status.error}: ${status.reason}` });
      return;
    }
    this.record("status", { text: `connected: ${text}` });
    this.setState("connected");
  }

  private received(bytes: Uint8Array): void {
    this.bytesReceived += bytes.byteLength;
    this.record("received", { bytes });
  }

  private onClose(code: number, reason: string): void {
    const neverOpened = this.state === "opening" && code === 1006;
    this.closeInfo = { code, reason, byPage: this.closing };
    this.endedAt = Date.now();
    this.record("closed", {
      text: `WebSocket closed with code ${code}${reason ? ` "${reason}"` : ""}`,
    });
    this.setState("closed");
    if (neverOpened) void this.explainRefusal();
  }

  private async explainRefusal(): Promise<void> {
    const why = await this.whyRefused?.();
    if (why === undefined) return;
    this.failure = { error: "refused", reason: why };
    this.record("error", { text: why });
  }

  private setState(state: SessionState): void {
    this.state = state;
    for (const listener of this.listeners) listener.state(state);
  }

  private record(kind: EntryKind, detail: { bytes?: Uint8Array; text?: string }): void {
    const size = detail.bytes?.byteLength ?? 0;
    let bytes = detail.bytes;
    if (bytes && this.recordedBytes + bytes.byteLength > MAX_RECORDED_BYTES) {
      bytes = undefined;
      this.incomplete = true;
    }
    if (this.entries.length >= MAX_ENTRIES) {
      this.incomplete = true;
      return;
    }
    this.recordedBytes += bytes?.byteLength ?? 0;
    const entry: LogEntry = {
      id: this.nextId++,
      time: Date.now(),
      kind,
      size,
      ...(bytes ? { bytes } : {}),
      ...(detail.text === undefined ? {} : { text: detail.text }),
    };
    this.entries.push(entry);
    for (const listener of this.listeners) listener.entry(entry);
  }
}

/** The handshake object for any protocol: its fields as typed, numbers where whole numbers. */
export function handshakeMessage(request: HandshakeRequest): Record<string, string | number> {
  const message: Record<string, string | number> = { protocol: request.protocol };
  for (const [name, text] of Object.entries(request.fields)) {
    if (name !== "protocol" && name !== "token") message[name] = fieldValue(text);
  }
  if (request.token) message.token = request.token;
  return message;
}
