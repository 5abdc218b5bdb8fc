// wisp-js's own client library: one Wisp connection per session, one TCP stream on it.
// The library's CONTINUE credits bound what it sends; `writable` also watches the socket.
import { client as wisp } from "@mercuryworkshop/wisp-js/client";
import { type Conn, Inbox, pollUntil, SEND_BOUND } from "./conn.ts";

interface WispStream {
  send(data: Uint8Array): void;
  close(reason?: number): void;
  send_buffer: unknown[];
  onmessage: (data: Uint8Array) => void;
  onclose: (reason: number) => void;
}
interface WispConnection {
  ws: WebSocket;
  onopen: () => void;
  onclose: () => void;
  onerror: () => void;
  create_stream(host: string, port: number): WispStream;
  close(): void;
}

export function dialWisp(
  url: string,
  host: string,
  port: number,
  timeoutMs: number,
): Promise<Conn> {
  return new Promise<Conn>((resolve, reject) => {
    const base = url.endsWith("/") ? url : `${url}/`;
    const connection = new wisp.ClientConnection(base) as unknown as WispConnection;
    const inbox = new Inbox();
    let done = false;
    let resolveClosed: (reason: string) => void = () => {};
    const closed = new Promise<string>((r) => {
      resolveClosed = r;
    });
    const finish = (why: string) => {
      if (done) return;
      done = true;
      resolveClosed(why);
    };
    const timer = setTimeout(() => {
      finish("timeout");
      connection.close();
      reject(new Error(`no wisp session within ${timeoutMs} ms`));
    }, timeoutMs);
    connection.onerror = () => {
      clearTimeout(timer);
      finish("wisp connection error");
      reject(new Error("wisp connection error"));
    };
    connection.onclose = () => {
      clearTimeout(timer);
      finish("wisp connection closed");
      reject(new Error("wisp connection closed"));
    };
    connection.onopen = () => {
      clearTimeout(timer);
      const stream = connection.create_stream(host, port);
      stream.onmessage = (data) => inbox.push(data);
      stream.onclose = (reason) => finish(`stream closed (${reason})`);
      const ready = () =>
        stream.send_buffer.length === 0 && connection.ws.bufferedAmount < SEND_BOUND;
      resolve({
        write: (bytes) => stream.send(bytes),
        writable: ready,
        whenWritable: () => pollUntil(ready, () => done),
        setReceiver: (receiver) => inbox.set(receiver),
        close() {
          finish("closed by client");
          connection.close();
        },
        closed,
        get extensions() {
          return connection.ws.extensions ?? "";
        },
      });
    };
  });
}
