import type { Socket, TCPSocketListener } from "bun";

export interface TcpTarget {
  readonly port: number;
  readonly listener: TCPSocketListener<TargetSocketState>;
  /** Bytes received by all connections, in arrival order per connection. */
  readonly received: Uint8Array[][];
  /** Resolves when `n` connections have seen end of stream or closed. */
  closedConnections(n: number, timeoutMs?: number): Promise<void>;
  stop(): void;
}

interface TargetSocketState {
  index: number;
  chunks: Uint8Array[];
}

export type TargetBehaviour = "echo" | "sink" | ((socket: Socket<TargetSocketState>) => void);

/** A loopback TCP server: echo (with backpressure), sink (records bytes), or a custom opener. */
export function startTcpTarget(behaviour: TargetBehaviour = "echo"): TcpTarget {
  const received: Uint8Array[][] = [];
  let closed = 0;
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
        const chunks: Uint8Array[] = [];
        socket.data = { index: received.length, chunks };
        received.push(chunks);
        if (typeof behaviour === "function") behaviour(socket);
      },
      data(socket, data) {
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
      close() {
        closed++;
      },
      error() {},
    },
  });
  return {
    port: listener.port,
    listener,
    received,
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
