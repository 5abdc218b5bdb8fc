// The TCP target every row relays to, in its own process: echo, sink (acknowledges and
// hashes what it got) or source (writes as fast as the reader takes), chosen per
// connection by the bench header (lib/target-header.ts).
// Prints one JSON line {"port": N} when it listens; with a certificate and key file as the 4th and
// 5th arguments it also serves the same workloads over TLS: {"port": N, "tlsPort": M}.
import type { Socket } from "bun";
import { patternSlice } from "../lib/pattern.ts";
import {
  ACK_EVERY,
  encodeAck,
  HEADER_BYTES,
  TargetMode,
  takeHeader,
} from "../lib/target-header.ts";

const SOURCE_CHUNK = 64 * 1024;

interface Conn {
  header: Uint8Array;
  headerFill: number;
  mode: TargetMode | 0;
  length: number;
  count: number;
  lastAck: number;
  hasher: Bun.CryptoHasher | null;
  queue: Uint8Array[];
  sourced: number;
}

function newConn(): Conn {
  return {
    header: new Uint8Array(HEADER_BYTES),
    headerFill: 0,
    mode: 0,
    length: 0,
    count: 0,
    lastAck: 0,
    hasher: null,
    queue: [],
    sourced: 0,
  };
}

/** Writes what the kernel takes; keeps the rest for `drain`. True when nothing is left. */
function flush(socket: Socket<Conn>): boolean {
  const queue = socket.data.queue;
  while (queue.length > 0) {
    const head = queue[0] as Uint8Array;
    const written = socket.write(head);
    if (written < 0) {
      queue.length = 0;
      return true;
    }
    if (written < head.byteLength) {
      queue[0] = head.subarray(written);
      return false;
    }
    queue.shift();
  }
  return true;
}

function send(socket: Socket<Conn>, bytes: Uint8Array): boolean {
  socket.data.queue.push(bytes);
  return flush(socket);
}

function pumpSource(socket: Socket<Conn>): void {
  const conn = socket.data;
  if (!flush(socket)) return;
  while (conn.sourced < conn.length) {
    const chunk = patternSlice(conn.sourced, Math.min(SOURCE_CHUNK, conn.length - conn.sourced));
    const written = socket.write(chunk);
    if (written < 0) return;
    conn.sourced += written;
    if (written < chunk.byteLength) return; // wait for drain
  }
}

function onPayload(socket: Socket<Conn>, bytes: Uint8Array): void {
  const conn = socket.data;
  if (conn.mode === TargetMode.echo) {
    if (!send(socket, bytes)) socket.pause();
    return;
  }
  if (conn.mode === TargetMode.sink) {
    conn.count += bytes.byteLength;
    conn.hasher?.update(bytes);
    if (conn.count >= conn.length) {
      send(socket, encodeAck(conn.count));
      send(socket, new Uint8Array(conn.hasher?.digest() ?? new ArrayBuffer(32)));
      conn.hasher = null;
      conn.lastAck = conn.count;
    } else if (conn.count - conn.lastAck >= ACK_EVERY) {
      conn.lastAck = conn.count;
      send(socket, encodeAck(conn.count));
    }
  }
  // source: anything the client sends after the header is ignored.
}

const handlers: Bun.SocketHandler<Conn> = {
  open(socket) {
    socket.data = newConn();
    socket.setNoDelay(true);
  },
  data(socket, data) {
    const conn = socket.data;
    let bytes: Uint8Array = data;
    if (conn.mode === 0) {
      const started = takeHeader(conn, bytes);
      if (!started) return;
      bytes = started.rest;
      if (started.mode === TargetMode.sink) conn.hasher = new Bun.CryptoHasher("sha256");
      if (started.mode === TargetMode.source) pumpSource(socket);
    }
    if (bytes.byteLength > 0) onPayload(socket, bytes);
  },
  drain(socket) {
    const conn = socket.data;
    if (conn.mode === TargetMode.source) pumpSource(socket);
    else if (flush(socket) && conn.mode === TargetMode.echo) socket.resume();
  },
  error() {},
};

const hostname = process.argv[2] ?? "127.0.0.1";
const listener = Bun.listen<Conn>({
  hostname,
  port: Number(process.argv[3] ?? 0),
  socket: handlers,
});
const [certFile, keyFile] = [process.argv[4], process.argv[5]];
const tlsListener =
  certFile && keyFile
    ? Bun.listen<Conn>({
        hostname,
        port: 0,
        tls: { cert: Bun.file(certFile), key: Bun.file(keyFile) },
        socket: handlers,
      })
    : undefined;

console.log(JSON.stringify({ port: listener.port, tlsPort: tlsListener?.port }));
process.on("SIGTERM", () => {
  listener.stop(true);
  tlsListener?.stop(true);
  process.exit(0);
});
