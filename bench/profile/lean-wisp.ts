// The leanest Bun Wisp (v1) server we could write for the stream-open workload: no policy, no
// limits, no logging, no timers, no flow control past the first grant, a plain `Bun.connect`
// (which cannot be cancelled). A yardstick, not a server: what a stream open costs on top of
// Bun's own sockets, for docs/benchmarks/ANALYSIS.md.
// Usage: bun run bench/profile/lean-wisp.ts <port>; prints "listening on <port>".
import type { ServerWebSocket, Socket } from "bun";

const CONNECT = 1;
const DATA = 2;
const CONTINUE = 3;
const CLOSE = 4;
const CLOSE_VOLUNTARY = 2;
const CLOSE_UNREACHABLE = 3;
const WINDOW = 128;

interface Stream {
  target: Socket<undefined> | undefined;
  queued: Uint8Array[];
  ended: boolean;
}
type Connection = Map<number, Stream>;

function packet(type: number, id: number, payload: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(5 + payload.length);
  bytes[0] = type;
  new DataView(bytes.buffer).setUint32(1, id, true);
  bytes.set(payload, 5);
  return bytes;
}

function connect(ws: ServerWebSocket<Connection>, id: number, host: string, port: number) {
  const stream: Stream = { target: undefined, queued: [], ended: false };
  ws.data.set(id, stream);
  const closed = (reason: number) => {
    if (ws.data.delete(id)) ws.sendBinary(packet(CLOSE, id, new Uint8Array([reason])));
  };
  void Bun.connect({
    hostname: host,
    port,
    socket: {
      open(target) {
        stream.target = target;
        for (const chunk of stream.queued) target.write(chunk);
        stream.queued = [];
        if (stream.ended) target.end();
      },
      data(_target, chunk) {
        ws.sendBinary(packet(DATA, id, chunk));
      },
      close: () => closed(CLOSE_VOLUNTARY),
      connectError: () => closed(CLOSE_UNREACHABLE),
      error() {},
    },
  }).catch(() => closed(CLOSE_UNREACHABLE));
}

const server = Bun.serve<Connection>({
  hostname: "127.0.0.1",
  port: Number(process.argv[2] ?? 0),
  fetch(request, srv) {
    return srv.upgrade(request, { data: new Map() })
      ? undefined
      : new Response(null, { status: 400 });
  },
  websocket: {
    open(ws) {
      const window = new Uint8Array(4);
      new DataView(window.buffer).setUint32(0, WINDOW, true);
      ws.sendBinary(packet(CONTINUE, 0, window));
    },
    message(ws, message) {
      const bytes = message as Uint8Array;
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const id = view.getUint32(1, true);
      if (bytes[0] === CONNECT) {
        const host = new TextDecoder().decode(bytes.subarray(8));
        connect(ws, id, host, view.getUint16(6, true));
        return;
      }
      const stream = ws.data.get(id);
      if (!stream) return;
      if (bytes[0] === DATA) {
        const chunk = bytes.slice(5);
        if (stream.target) stream.target.write(chunk);
        else stream.queued.push(chunk);
      } else if (bytes[0] === CLOSE) {
        ws.data.delete(id);
        stream.ended = true;
        stream.target?.end();
      }
    },
  },
});
console.log(`listening on ${server.port}`);
