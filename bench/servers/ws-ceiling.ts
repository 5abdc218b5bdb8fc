// The ws-ceiling row: a Bun WebSocket server that speaks the Socket2Web handshake and is
// itself the echo/sink/source target (bench header, lib/target-header.ts): no TCP hop.
// What any Bun WebSocket proxy could reach at best. Prints "listening on <port>".
import type { ServerWebSocket } from "bun";
import { patternSlice } from "../lib/pattern.ts";
import {
  ACK_EVERY,
  encodeAck,
  HEADER_BYTES,
  TargetMode,
  takeHeader,
} from "../lib/target-header.ts";

const SOURCE_CHUNK = 64 * 1024;

interface Session {
  connected: boolean;
  header: Uint8Array;
  headerFill: number;
  mode: TargetMode | 0;
  length: number;
  count: number;
  lastAck: number;
  hasher: Bun.CryptoHasher | null;
  sourced: number;
}

function pumpSource(ws: ServerWebSocket<Session>): void {
  const s = ws.data;
  while (s.sourced < s.length) {
    const n = Math.min(SOURCE_CHUNK, s.length - s.sourced);
    const status = ws.sendBinary(patternSlice(s.sourced, n));
    if (status === 0) return; // dropped: cannot happen below the backpressure limit
    s.sourced += n;
    if (status === -1) return; // queued: continue on drain
  }
}

function onPayload(ws: ServerWebSocket<Session>, bytes: Uint8Array): void {
  const s = ws.data;
  if (s.mode === TargetMode.echo) {
    if (ws.sendBinary(bytes) === -1) ws.pause();
  } else if (s.mode === TargetMode.sink) {
    s.count += bytes.byteLength;
    s.hasher?.update(bytes);
    if (s.count >= s.length) {
      ws.sendBinary(encodeAck(s.count));
      ws.sendBinary(new Uint8Array(s.hasher?.digest() ?? new ArrayBuffer(32)));
      s.hasher = null;
    } else if (s.count - s.lastAck >= ACK_EVERY) {
      s.lastAck = s.count;
      ws.sendBinary(encodeAck(s.count));
    }
  }
}

const greeting = JSON.stringify({
  "supported protocols": { tcp: { target_ip: "IP Address", target_port: "Port for IP Address" } },
  server: "bench-ws-ceiling",
});

const server = Bun.serve<Session>({
  hostname: "127.0.0.1",
  port: Number(process.argv[2] ?? 0),
  fetch(req, srv) {
    const data: Session = {
      connected: false,
      header: new Uint8Array(HEADER_BYTES),
      headerFill: 0,
      mode: 0,
      length: 0,
      count: 0,
      lastAck: 0,
      hasher: null,
      sourced: 0,
    };
    if (srv.upgrade(req, { data })) return undefined;
    return new Response("Upgrade Required", { status: 426 });
  },
  websocket: {
    perMessageDeflate: false,
    open(ws) {
      ws.send(greeting);
    },
    message(ws, message) {
      const s = ws.data;
      if (!s.connected) {
        const handshake = JSON.parse(String(message)) as Record<string, unknown>;
        s.connected = true;
        ws.send(JSON.stringify({ status: "connected", ...handshake }));
        return;
      }
      let bytes: Uint8Array =
        typeof message === "string" ? new TextEncoder().encode(message) : message;
      if (s.mode === 0) {
        const started = takeHeader(s, bytes);
        if (!started) return;
        bytes = started.rest;
        if (started.mode === TargetMode.sink) s.hasher = new Bun.CryptoHasher("sha256");
        if (started.mode === TargetMode.source) pumpSource(ws);
      }
      if (bytes.byteLength > 0) onPayload(ws, bytes);
    },
    drain(ws) {
      if (ws.data.mode === TargetMode.source) pumpSource(ws);
      else if (ws.data.mode === TargetMode.echo) ws.resume();
    },
  },
});

console.log(`listening on ${server.port}`);
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});
