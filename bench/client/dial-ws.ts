// WebSocket client (Bun's own) for the Socket2Web protocol and for raw relays (websockify).
// permessage-deflate is never offered, so no row can negotiate it.
import { type Conn, Inbox, pollUntil, SEND_BOUND } from "./conn.ts";

interface WsOptions {
  url: string;
  /** Socket2Web handshake to send after the greeting; null for a raw relay. */
  handshake: Record<string, unknown> | null;
  protocols?: string[];
  /** The handshake went in the URL: the first frame is the status (no greeting). */
  statusFirst?: boolean;
  timeoutMs: number;
}

export function dialWs(options: WsOptions): Promise<Conn> {
  return new Promise<Conn>((resolve, reject) => {
    const ws = new WebSocket(options.url, {
      perMessageDeflate: false,
      ...(options.protocols ? { protocols: options.protocols } : {}),
    });
    ws.binaryType = "arraybuffer";
    const inbox = new Inbox();
    let state: "opening" | "greeting" | "status" | "open" | "closed" = "opening";
    let openedAt = 0;
    let setupMicros: number | undefined;
    let resolveClosed: (reason: string) => void = () => {};
    const closed = new Promise<string>((r) => {
      resolveClosed = r;
    });
    const timer = setTimeout(
      () => fail(`no session within ${options.timeoutMs} ms (${state})`),
      options.timeoutMs,
    );
    const fail = (why: string) => {
      clearTimeout(timer);
      if (state !== "closed") {
        state = "closed";
        resolveClosed(why);
        try {
          ws.close();
        } catch {
          // Already closing.
        }
      }
      reject(new Error(why));
    };
    const conn: Conn = {
      write(bytes) {
        if (state === "open") ws.send(bytes);
      },
      writable: () => ws.bufferedAmount < SEND_BOUND,
      whenWritable: () =>
        pollUntil(
          () => ws.bufferedAmount < SEND_BOUND,
          () => state === "closed",
        ),
      setReceiver: (receiver) => inbox.set(receiver),
      close() {
        if (state !== "closed") {
          state = "closed";
          resolveClosed("closed by client");
          ws.close(1000);
        }
      },
      closed,
      get extensions() {
        return ws.extensions;
      },
      get setupMicros() {
        return setupMicros;
      },
    };
    const ready = () => {
      clearTimeout(timer);
      state = "open";
      resolve(conn);
    };
    ws.onopen = () => {
      openedAt = Bun.nanoseconds();
      if (options.handshake) state = "greeting";
      else if (options.statusFirst) state = "status";
      else ready();
    };
    ws.onmessage = (event: MessageEvent) => {
      const data = event.data as ArrayBuffer | string;
      if (state === "open") {
        if (typeof data !== "string") inbox.push(new Uint8Array(data));
        return;
      }
      if (typeof data !== "string") {
        fail(`binary frame during ${state}`);
        return;
      }
      if (state === "greeting") {
        state = "status";
        ws.send(JSON.stringify(options.handshake));
      } else if (state === "status") {
        const status = JSON.parse(data) as { status?: string; error?: string };
        if (status.status === "connected") {
          setupMicros = (Bun.nanoseconds() - openedAt) / 1000;
          ready();
        } else fail(`status ${status.status}: ${status.error ?? data}`);
      }
    };
    ws.onerror = () => {
      if (state !== "open" && state !== "closed") fail(`websocket error during ${state}`);
    };
    ws.onclose = (event: CloseEvent) => {
      if (state === "open") {
        state = "closed";
        resolveClosed(`closed ${event.code} ${event.reason}`);
      } else if (state !== "closed") {
        fail(`closed ${event.code} ${event.reason} during ${state}`);
      }
    };
  });
}
