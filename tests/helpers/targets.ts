import { connect } from "node:net";
import type { Socket, TCPSocketListener } from "bun";

export interface TcpTarget {
  readonly port: number;
  readonly listener: TCPSocketListener<TargetSocketState>;
  /** Bytes received by all connections, in arrival order per connection. */
  readonly received: Uint8Array[][];
  /**
   * How many connections the target has accepted, counting every one whose connect came before
   * this call: it connects to itself once (a marker, not counted) and waits until that is
   * accepted, since a listener accepts in the order the connections arrived. A test that asserts
   * "never connected" asks this only after the event that must precede such a connect.
   */
  connectionsSoFar(timeoutMs?: number): Promise<number>;
  /** Resolves when `n` connections have seen end of stream or closed. */
  closedConnections(n: number, timeoutMs?: number): Promise<void>;
  stop(): void;
}

interface TargetSocketState {
  index: number;
  chunks: Uint8Array[];
  /** A marker connection from `connectionsSoFar`: not a connection under test. */
  marker?: boolean;
}

export type TargetBehaviour = "echo" | "sink" | ((socket: Socket<TargetSocketState>) => void);

/** A loopback TCP server: echo (with backpressure), sink (records bytes), or a custom opener. */
export function startTcpTarget(behaviour: TargetBehaviour = "echo"): TcpTarget {
  const received: Uint8Array[][] = [];
  let closed = 0;
  /** Marker connections come from this address; whatever the proxy dials comes from 127.0.0.1. */
  const markerSource = "127.0.0.2";
  const markers = new Map<number, () => void>();
  const pendingEcho = new Map<Socket<TargetSocketState>, Uint8Array[]>();
  const flushEcho = (socket: Socket<TargetSocketState>) => {
    const queue = pendingEcho.get(socket) ?? [];
    while (queue.length > 0) {
      const head = queue[0] as Uint8Array;
      const written = socket.write(head);
      if (written < head.byteLength) {
        queue[0] = head.subarray(Math.max(written, 0));
        socket.pause();
        return;
      }
      queue.shift();
    }
    socket.resume();
  };
  const listener = Bun.listen<TargetSocketState>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        if (socket.remoteAddress === markerSource) {
          socket.data = { index: -1, chunks: [], marker: true };
          // Its connector is waiting for it, or will find this entry when its connect completes.
          const waiting = markers.get(socket.remotePort);
          if (waiting) waiting();
          else markers.set(socket.remotePort, () => {});
          return;
        }
        const chunks: Uint8Array[] = [];
        socket.data = { index: received.length, chunks };
        received.push(chunks);
        if (typeof behaviour === "function") behaviour(socket);
      },
      data(socket, data) {
        if (socket.data.marker) return;
        socket.data.chunks.push(data);
        if (behaviour === "echo") {
          const queue = pendingEcho.get(socket) ?? [];
          pendingEcho.set(socket, queue);
          queue.push(data);
          flushEcho(socket);
        }
      },
      drain(socket) {
        if (behaviour === "echo") flushEcho(socket);
      },
      close(socket) {
        if (!socket.data?.marker) closed++;
      },
      error() {},
    },
  });
  return {
    port: listener.port,
    listener,
    received,
    async connectionsSoFar(timeoutMs = 5000) {
      const socket = connect({
        host: "127.0.0.1",
        port: listener.port,
        localAddress: markerSource,
      });
      socket.on("error", () => {});
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error("marker not accepted")), timeoutMs);
          socket.once("connect", () => {
            const port = socket.localPort as number;
            const done = () => {
              clearTimeout(timer);
              markers.delete(port);
              resolve();
            };
            // Accepted already (its open ran first), or on its way.
            if (markers.has(port)) done();
            else markers.set(port, done);
          });
        });
      } finally {
        socket.destroy();
      }
      return received.length;
    },
    async closedConnections(n, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (closed < n) {
        if (Date.now() > deadline)
          throw new Error(`only ${closed} of ${n} target connections closed`);
        await Bun.sleep(5);
      }
    },
    stop() {
      listener.stop(true);
    },
  };
}

export function concat(chunks: Uint8Array[]): Uint8Array {
  return Buffer.concat(chunks);
}

/** A loopback TCP server that writes `data` to each connection as fast as it is read, then ends it. */
export function startSourceTarget(data: Uint8Array): { port: number; stop(): void } {
  const pump = (socket: Socket<{ offset: number }>) => {
    while (socket.data.offset < data.byteLength) {
      const written = socket.write(
        data.subarray(socket.data.offset, socket.data.offset + 1024 * 1024),
      );
      if (written <= 0) return;
      socket.data.offset += written;
    }
    socket.end();
  };
  const listener = Bun.listen<{ offset: number }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { offset: 0 };
        pump(socket);
      },
      drain: pump,
      data() {},
      error() {},
    },
  });
  return { port: listener.port, stop: () => listener.stop(true) };
}
