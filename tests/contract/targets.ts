import type { Socket, SocketHandler, TCPSocketListener, UnixSocketListener, udp } from "bun";

/**
 * One connection (stream) or one remote (datagrams) as a contract target sees it: what it received,
 * and what the test can make it do.
 */
export interface Peer {
  /** Datagram targets: where the proxy's socket sends from. */
  readonly remote?: { readonly address: string; readonly port: number };
  /** Every chunk or datagram received, in order. */
  readonly received: Uint8Array[];
  /** Resolves once `bytes` bytes in total have arrived. */
  receivedBytes(bytes: number, timeoutMs?: number): Promise<void>;
  /** Resolves with all bytes received once the peer saw end of stream (stream targets). */
  readonly ended: Promise<Uint8Array>;
  send(data: Uint8Array): void;
  /** Sends `total` bytes of `pattern(i) = i % 251` as fast as the proxy takes them. */
  flood(total: number): void;
  /** Bytes the kernel took from `flood` so far. */
  flooded(): number;
  /** Stops reading (streams): the proxy's writes must stall. */
  pause(): void;
  resume(): void;
  /** End of stream towards the proxy, after what was sent. */
  end(): void;
  /** Drops the connection abruptly (RST). */
  reset(): void;
}

export interface ContractTarget {
  /** Handshake fields (besides `protocol`) that reach this target. */
  readonly fields: Record<string, unknown>;
  /** The next connection (or, for datagrams, the first remote that sends). */
  nextPeer(timeoutMs?: number): Promise<Peer>;
  /** Connections (or remotes) seen so far. */
  peers(): number;
  stop(): Promise<void>;
}

/** `echo` answers everything; `quiet` only records; `banner` records and speaks first (`BANNER`). */
export type TargetMode = "echo" | "quiet" | "banner";

/** What a `banner` target sends as soon as a connection is open (as SMTP or SSH servers do). */
export const BANNER = new TextEncoder().encode("220 contract target ready\r\n");

const FLOOD_BLOCK = 64 * 1024;
/** Below the largest IPv4 datagram (65,507 bytes). */
const UDP_FLOOD_DATAGRAM = 60_000;
const PATTERN = Uint8Array.from({ length: 251 * 1024 }, (_, i) => i % 251);

function peerQueue() {
  const peers: Peer[] = [];
  const waiters: ((peer: Peer) => void)[] = [];
  let taken = 0;
  return {
    add(peer: Peer) {
      const waiter = waiters.shift();
      peers.push(peer);
      if (waiter) {
        taken++;
        waiter(peer);
      }
    },
    count: () => peers.length,
    next(timeoutMs = 5000): Promise<Peer> {
      const ready = peers[taken];
      if (ready) {
        taken++;
        return Promise.resolve(ready);
      }
      return new Promise<Peer>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error("no connection reached the target")),
          timeoutMs,
        );
        waiters.push((peer) => {
          clearTimeout(timer);
          resolve(peer);
        });
      });
    },
  };
}

/** Waits until `condition` holds, re-checked whenever `wake` is called. */
function waiterSet() {
  const waiters = new Set<() => void>();
  return {
    wake: () => {
      for (const waiter of waiters) waiter();
    },
    until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
      if (condition()) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!condition()) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
  };
}

interface StreamState {
  peer?: Peer;
  onData(chunk: Uint8Array): void;
  onDrain(): void;
  onEnd(): void;
}

/** How a stream target listens: TCP (optionally with TLS) or a Unix socket path. */
export type StreamListen =
  | { readonly port: 0; readonly tls?: { readonly cert: string; readonly key: string } }
  | { readonly unix: string };

/** A stream target (tcp, tls, unix): echo with backpressure, or quiet (records only). */
export function startStreamTarget(listen: StreamListen, mode: TargetMode = "echo") {
  const queue = peerQueue();
  const tls = "tls" in listen && listen.tls !== undefined;
  const handlers: SocketHandler<StreamState> = {
    open(socket) {
      socket.data = streamPeer(socket, mode);
      queue.add(socket.data.peer as Peer);
      // Over TLS, bytes written before the handshake are lost: speak first from `handshake`.
      if (mode === "banner" && !tls) socket.data.peer?.send(BANNER);
    },
    handshake(socket) {
      if (mode === "banner") socket.data.peer?.send(BANNER);
    },
    data: (socket, chunk) => socket.data.onData(chunk),
    drain: (socket) => socket.data.onDrain(),
    end: (socket) => socket.data.onEnd(),
    close: (socket) => socket.data?.onEnd(),
    error() {},
  };
  const listener: TCPSocketListener<StreamState> | UnixSocketListener<StreamState> =
    "unix" in listen
      ? Bun.listen<StreamState>({ unix: listen.unix, socket: handlers })
      : Bun.listen<StreamState>({
          hostname: "127.0.0.1",
          port: 0,
          ...(listen.tls ? { tls: listen.tls } : {}),
          allowHalfOpen: true,
          socket: handlers,
        });
  return {
    port: "port" in listener ? listener.port : 0,
    nextPeer: queue.next,
    peers: queue.count,
    async stop() {
      listener.stop(true);
    },
  };
}

function streamPeer(socket: Socket<StreamState>, mode: TargetMode): StreamState {
  const received: Uint8Array[] = [];
  let total = 0;
  const waiters = waiterSet();
  const pending: Uint8Array[] = [];
  let floodLeft = 0;
  let floodSent = 0;
  let ended = false;
  /** end() waits for what was sent before it (a Unix socket's buffer is small). */
  let endRequested = false;
  let resolveEnded: (bytes: Uint8Array) => void = () => {};
  const endedPromise = new Promise<Uint8Array>((resolve) => {
    resolveEnded = resolve;
  });
  const flush = () => {
    while (pending.length > 0) {
      const head = pending[0] as Uint8Array;
      const written = Math.max(0, socket.write(head));
      if (written < head.byteLength) {
        pending[0] = head.subarray(written);
        return;
      }
      pending.shift();
    }
    while (floodLeft > 0) {
      const offset = floodSent % 251;
      const size = Math.min(FLOOD_BLOCK, floodLeft);
      const written = Math.max(0, socket.write(PATTERN.subarray(offset, offset + size)));
      floodSent += written;
      floodLeft -= written;
      if (written < size) return;
    }
    if (endRequested) socket.shutdown();
  };
  const peer: Peer = {
    received,
    receivedBytes: (bytes, timeoutMs = 10_000) =>
      waiters.until(() => total >= bytes, timeoutMs, `${bytes} bytes at the target`),
    ended: endedPromise,
    send(data) {
      pending.push(data);
      flush();
    },
    flood(bytes) {
      floodLeft += bytes;
      flush();
    },
    flooded: () => floodSent,
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    end() {
      endRequested = true;
      flush();
    },
    reset: () => socket.terminate(),
  };
  return {
    peer,
    onData(chunk) {
      received.push(chunk);
      total += chunk.byteLength;
      waiters.wake();
      if (mode === "echo" && !ended) peer.send(chunk);
    },
    onDrain: flush,
    onEnd() {
      if (ended) return;
      ended = true;
      resolveEnded(Buffer.concat(received));
    },
  };
}

/** A UDP target on 127.0.0.1 (or ::1): each remote address and port is one peer. */
export async function startUdpTarget(mode: TargetMode = "echo", hostname = "127.0.0.1") {
  const queue = peerQueue();
  const remotes = new Map<string, { onData(datagram: Uint8Array): void }>();
  const socket: udp.Socket<"uint8array"> = await Bun.udpSocket({
    hostname,
    port: 0,
    binaryType: "uint8array",
    socket: {
      data(_socket, datagram, port, address) {
        const key = `${address}:${port}`;
        let remote = remotes.get(key);
        if (!remote) {
          remote = udpPeer(socket, port, address, mode, queue.add);
          remotes.set(key, remote);
        }
        remote.onData(datagram);
      },
      error() {},
    },
  });
  return {
    port: socket.port,
    nextPeer: queue.next,
    peers: queue.count,
    async stop() {
      socket.close();
    },
  };
}

function udpPeer(
  socket: udp.Socket<"uint8array">,
  port: number,
  address: string,
  mode: TargetMode,
  announce: (peer: Peer) => void,
) {
  const received: Uint8Array[] = [];
  let total = 0;
  let floodSent = 0;
  const waiters = waiterSet();
  const unsupported = (what: string) => () => {
    throw new Error(`a UDP target cannot ${what}`);
  };
  const peer: Peer = {
    remote: { address, port },
    received,
    receivedBytes: (bytes, timeoutMs = 10_000) =>
      waiters.until(() => total >= bytes, timeoutMs, `${bytes} bytes at the target`),
    ended: new Promise<Uint8Array>(() => {}),
    send: (data) => {
      socket.send(data, port, address);
    },
    flood(count) {
      // `count` is in bytes, sent as datagrams of UDP_FLOOD_DATAGRAM bytes (rounded up).
      for (let sent = 0; sent < count; sent += UDP_FLOOD_DATAGRAM) {
        const datagram = PATTERN.subarray(0, UDP_FLOOD_DATAGRAM);
        if (socket.send(datagram, port, address)) floodSent += UDP_FLOOD_DATAGRAM;
      }
    },
    flooded: () => floodSent,
    pause: unsupported("pause"),
    resume: unsupported("resume"),
    end: unsupported("end a stream"),
    reset: unsupported("reset"),
  };
  announce(peer);
  return {
    onData(datagram: Uint8Array) {
      received.push(datagram);
      total += datagram.byteLength;
      waiters.wake();
      if (mode === "echo") peer.send(datagram);
    },
  };
}

/** A target that does not open until `release()`: the connect is still under way meanwhile. */
export interface PendingTarget {
  readonly fields: Record<string, unknown>;
  release(): void;
  /** SHA-256 (hex) of the bytes the first connection received, once it reached end of stream. */
  delivered(timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A TCP gate in front of `backendPort`: it accepts at once but forwards nothing until released, so
 * a protocol that speaks first over TCP (TLS's handshake) stays unopened until then.
 */
export function startGate(backendPort: number) {
  interface GateState {
    held: Uint8Array[];
    backend?: Socket<{ client: Socket<GateState> }>;
  }
  let released = false;
  const waiting: Socket<GateState>[] = [];
  const forward = async (client: Socket<GateState>) => {
    client.data.backend = await Bun.connect<{ client: Socket<GateState> }>({
      hostname: "127.0.0.1",
      port: backendPort,
      data: { client },
      socket: {
        data: (backend, chunk) => void backend.data.client.write(chunk),
        close: (backend) => {
          backend.data.client.end();
        },
        error() {},
      },
    });
    for (const chunk of client.data.held.splice(0)) client.data.backend.write(chunk);
  };
  const listener = Bun.listen<GateState>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { held: [] };
        if (released) void forward(socket);
        else waiting.push(socket);
      },
      data(socket, chunk) {
        if (socket.data.backend) socket.data.backend.write(chunk);
        else socket.data.held.push(chunk);
      },
      close: (socket) => {
        socket.data.backend?.end();
      },
      error() {},
    },
  });
  return {
    port: listener.port,
    release() {
      released = true;
      for (const socket of waiting.splice(0)) void forward(socket);
    },
    stop: () => listener.stop(true),
  };
}
