// The leanest Bun WebSocket→TCP relay we could write for the Socket2Web protocol: no policy,
// no logging, no timers. A yardstick for docs/benchmarks/ANALYSIS.md: what the relay code
// itself costs on top of Bun. LEAN_BATCH=1 gathers the WebSocket messages of one event-loop
// turn into a single TCP write (setImmediate) instead of one write per message. LEAN_GC=1
// runs a full garbage collection once the last session has closed.
// Usage: bun run bench/profile/lean-relay.ts <port>; prints "listening on <port>".
import type { ServerWebSocket, Socket } from "bun";

const BATCH = process.env.LEAN_BATCH === "1";
// LEAN_GC=1: once every session has closed, collect garbage and give memory back (Bun.gc(true)).
const GC_WHEN_EMPTY = process.env.LEAN_GC === "1";
let open = 0;
const HIGH_WATER = 1024 * 1024;

interface Session {
  target: Socket<undefined> | null;
  connected: boolean;
  queue: Uint8Array[];
  queued: number;
  scheduled: boolean;
}

function flush(ws: ServerWebSocket<Session>): void {
  const s = ws.data;
  const target = s.target;
  if (!target) return;
  if (BATCH && s.queue.length > 1) s.queue = [Buffer.concat(s.queue)];
  while (s.queue.length > 0) {
    const head = s.queue[0] as Uint8Array;
    const n = target.write(head);
    if (n < 0) return;
    s.queued -= n;
    if (n < head.byteLength) {
      s.queue[0] = head.subarray(n);
      ws.pause();
      return;
    }
    s.queue.shift();
  }
  ws.resume();
}

const greeting = JSON.stringify({
  "supported protocols": { tcp: { target_ip: "IP", target_port: "port" } },
});

const server = Bun.serve<Session>({
  hostname: "127.0.0.1",
  port: Number(process.argv[2] ?? 0),
  fetch(req, srv) {
    const data: Session = {
      target: null,
      connected: false,
      queue: [],
      queued: 0,
      scheduled: false,
    };
    return srv.upgrade(req, { data }) ? undefined : new Response("", { status: 426 });
  },
  websocket: {
    perMessageDeflate: false,
    backpressureLimit: 0,
    open(ws) {
      open++;
      ws.send(greeting);
    },
    async message(ws, message) {
      const s = ws.data;
      if (!s.connected) {
        s.connected = true;
        const h = JSON.parse(String(message)) as { target_ip: string; target_port: number };
        // Out of descriptors (10,000 sessions under a 20,000 hard limit) the connect fails: answer
        // as socket2web does instead of dying on an unhandled rejection.
        const target = await Bun.connect({
          hostname: h.target_ip,
          port: h.target_port,
          socket: {
            data(_sock, chunk) {
              if (ws.sendBinary(chunk) === -1 && ws.getBufferedAmount() > HIGH_WATER) _sock.pause();
            },
            drain() {
              flush(ws);
            },
            close() {
              ws.close(1000);
            },
          },
        }).catch(() => null);
        if (!target) {
          ws.send(JSON.stringify({ status: "error", error: "connect_failed" }));
          ws.close(4502, "connect_failed");
          return;
        }
        s.target = target;
        s.target.setNoDelay(true);
        ws.send(JSON.stringify({ status: "connected", ...h }));
        flush(ws);
        return;
      }
      const chunk = typeof message === "string" ? Buffer.from(message) : message;
      if (!s.target || (!BATCH && s.queue.length > 0)) {
        s.queue.push(chunk);
        return;
      }
      if (!BATCH) {
        const n = s.target.write(chunk);
        if (n < chunk.byteLength) {
          s.queue.push(chunk.subarray(Math.max(0, n)));
          ws.pause();
        }
        return;
      }
      s.queue.push(chunk);
      if (!s.scheduled) {
        s.scheduled = true;
        setImmediate(() => {
          s.scheduled = false;
          flush(ws);
        });
      }
    },
    drain(ws) {
      ws.data.target?.resume();
    },
    close(ws) {
      ws.data.target?.end();
      open--;
      if (GC_WHEN_EMPTY && open === 0) setTimeout(() => open === 0 && Bun.gc(true), 100);
    },
  },
});
console.log(`listening on ${server.port}`);
process.on("SIGTERM", () => process.exit(0));
