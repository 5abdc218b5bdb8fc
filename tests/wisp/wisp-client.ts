// Promise helpers around the unmodified wisp-js client.
import { client } from "@mercuryworkshop/wisp-js/client";

export type ClientConnection = InstanceType<typeof client.ClientConnection>;
export type ClientStream = InstanceType<typeof client.ClientStream>;

/** Connects and resolves once the server's CONTINUE on stream 0 arrived; rejects on close/error. */
export function connectWisp(
  url: string,
  options: { wisp_version?: 1 | 2; wisp_extensions?: unknown[] } = {},
  timeoutMs = 5000,
): Promise<ClientConnection> {
  return new Promise((resolve, reject) => {
    const connection = new client.ClientConnection(url, options);
    const timer = setTimeout(() => reject(new Error("wisp-js client did not open")), timeoutMs);
    connection.onopen = () => {
      clearTimeout(timer);
      resolve(connection);
    };
    connection.onclose = () => {
      clearTimeout(timer);
      reject(new Error("closed before it opened"));
    };
    connection.onerror = connection.onclose;
  });
}

export interface OpenStream {
  readonly stream: ClientStream;
  readonly chunks: Uint8Array[];
  bytes(): number;
  /** Resolves with the CLOSE reason the server sent (or 0x03 when the WebSocket went away). */
  readonly closed: Promise<number>;
  /** Resolves once `n` bytes arrived. */
  received(n: number, timeoutMs?: number): Promise<void>;
}

export function openStream(
  connection: ClientConnection,
  host: string,
  port: number,
  type: "tcp" | "udp" = "tcp",
): OpenStream {
  const stream = connection.create_stream(host, port, type);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const waiters: { n: number; resolve(): void }[] = [];
  stream.onmessage = (data) => {
    // wisp-js hands out a view of its receive buffer: keep a copy.
    chunks.push(Uint8Array.from(data));
    total += data.byteLength;
    for (const waiter of [...waiters]) {
      if (total >= waiter.n) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  const closed = new Promise<number>((resolve) => {
    stream.onclose = resolve;
  });
  return {
    stream,
    chunks,
    bytes: () => total,
    closed,
    received(n, timeoutMs = 20_000) {
      if (total >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`stream ${stream.stream_id}: ${total} of ${n} bytes arrived`)),
          timeoutMs,
        );
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
  };
}

/** Sends `data` in `chunkSize` pieces (each a DATA packet, queued by the client past its credit). */
export function sendAll(stream: ClientStream, data: Uint8Array, chunkSize: number): void {
  for (let offset = 0; offset < data.byteLength; offset += chunkSize) {
    stream.send(data.subarray(offset, offset + chunkSize));
  }
}

/** Resolves once `condition()` holds, checking on each turn of the event loop (bounded). */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(2);
  }
}
