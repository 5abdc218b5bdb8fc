import { type Socket as NetSocket, connect as netConnect } from "node:net";
import type { Socket } from "bun";
import { formatHostPort } from "../net/host-port.ts";
import { parsePort } from "../net/port.ts";
import { parseTargetHost } from "../net/target-host.ts";
import { invalidHandshake, ProxyError } from "../protocol/errors.ts";
import { defineProtocol, type TargetConnection, type TargetEvents } from "./types.ts";

export interface TcpTarget {
  /** The host as the client wrote it: an IP literal (normalised) or a host name. */
  readonly host: string;
  readonly port: number;
}

interface SocketState {
  events: TargetEvents;
  /** Set once the relay has heard the end of this connection, or closed it itself. */
  finished: boolean;
  /** Bytes the target sent before the socket was taken over; delivered on the first resume. */
  early: Uint8Array | null;
}

const handlers = {
  // Reading waits until the session has sent the client its `connected` status.
  open(socket: Socket<SocketState>) {
    socket.pause();
    socket.setNoDelay(true);
  },
  data(socket: Socket<SocketState>, chunk: Uint8Array) {
    socket.data.events.data(chunk);
  },
  drain(socket: Socket<SocketState>) {
    if (!socket.data.finished) socket.data.events.drain();
  },
  end(socket: Socket<SocketState>) {
    finish(socket.data)?.end();
  },
  error(socket: Socket<SocketState>, error: Error) {
    finish(socket.data)?.error(error);
  },
  close(socket: Socket<SocketState>, error?: Error) {
    const events = finish(socket.data);
    if (error) events?.error(error);
    else events?.end();
  },
};

function finish(state: SocketState): TargetEvents | undefined {
  if (state.finished) return undefined;
  state.finished = true;
  return state.events;
}

export const tcp = defineProtocol<TcpTarget>({
  name: "tcp",
  fields: { target_ip: "IP Address", target_port: "Port for IP Address" },

  parse(handshake) {
    const { target_ip, target_port } = handshake;
    if (typeof target_ip !== "string") throw invalidHandshake("target_ip must be a string");
    const host = parseTargetHost(target_ip);
    return { host: host.kind === "ip" ? host.address : host.name, port: parsePort(target_port) };
  },

  endpoint: (target) => target,

  async open({ address, port, signal }, events) {
    const state: SocketState = { events, finished: false, early: null };
    const socket = await openCancellable(address, port, signal, state);
    if (signal.aborted) {
      state.finished = true;
      socket.terminate();
      throw new ProxyError("connect_failed", "connection opened after it was abandoned");
    }
    return connection(socket, state);
  },
});

/** The native socket under a node:net socket, in Bun: the same object Bun.connect gives. */
type NodeSocketInternals = { _handle?: Socket<SocketState> | null };

/**
 * Opens a TCP connection that an abort cancels at once. `Bun.connect` cannot be cancelled: a
 * connect the target never answers keeps its descriptor until the kernel gives up (about two
 * minutes), long after the session's connect timeout. A node:net connect releases it on
 * `destroy()`, and in Bun it wraps the same native socket, which is taken over with the shared
 * handlers once open, so the relay runs on the native socket as before. node:net's wrapper costs
 * some CPU per connect (docs/benchmarks/ANALYSIS.md): the price of cancellable connects.
 */
function openCancellable(
  address: string,
  port: number,
  signal: AbortSignal,
  state: SocketState,
): Promise<Socket<SocketState>> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new ProxyError("connect_failed", "connect abandoned"));
      return;
    }
    const pending = netConnect({ host: address, port });
    const abandon = () => {
      pending.destroy();
      reject(new ProxyError("connect_failed", "connect abandoned"));
    };
    signal.addEventListener("abort", abandon, { once: true });
    pending.once("error", (error: Error) => {
      signal.removeEventListener("abort", abandon);
      pending.destroy();
      const code = (error as { code?: string }).code ?? error.message;
      reject(new ProxyError("connect_failed", `connect ${code} ${formatHostPort(address, port)}`));
    });
    pending.once("connect", () => {
      signal.removeEventListener("abort", abandon);
      const socket = takeOver(pending, state);
      if (socket) resolve(socket);
      else {
        pending.destroy();
        reject(new ProxyError("connect_failed", "no native socket under node:net"));
      }
    });
  });
}

function takeOver(pending: NetSocket, state: SocketState): Socket<SocketState> | null {
  const socket = (pending as unknown as NodeSocketInternals)._handle;
  if (!socket || typeof socket.reload !== "function") return null;
  const early = pending.read() as Buffer | null;
  if (early && early.byteLength > 0) state.early = early;
  pending.removeAllListeners();
  pending.on("error", () => {});
  // The native socket points back at the node:net socket (its stream states, a few KiB per
  // session): unlink both ways so that the node:net object is collected once taken over.
  for (const key of Object.getOwnPropertySymbols(socket)) {
    if (key.description === "owner_symbol") Reflect.deleteProperty(socket, key);
  }
  (pending as unknown as NodeSocketInternals)._handle = null;
  socket.data = state;
  socket.reload({ socket: handlers });
  socket.pause();
  socket.setNoDelay(true);
  return socket;
}

function connection(socket: Socket<SocketState>, state: SocketState): TargetConnection {
  return {
    write: (chunk) => Math.max(0, socket.write(chunk)),
    pause: () => socket.pause(),
    resume() {
      const early = state.early;
      if (early) {
        state.early = null;
        state.events.data(early);
      }
      socket.resume();
    },
    end() {
      state.finished = true;
      socket.end();
    },
    destroy() {
      state.finished = true;
      socket.terminate();
    },
  };
}
