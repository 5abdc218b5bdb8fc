import { type Socket as NetSocket, connect as netConnect } from "node:net";
import { ProxyError } from "../protocol/errors.ts";
import {
  closeIfAbandoned,
  plainHandlers,
  type SocketState,
  type StreamSocket,
  streamConnection,
  type TlsConnectOptions,
  upgradeToTls,
} from "./stream-socket.ts";
import type { TargetConnection, TargetEvents } from "./types.ts";

export interface CancellableOpen {
  readonly address: string;
  readonly port: number;
  /** For messages: `127.0.0.1:443`. */
  readonly where: string;
  readonly signal: AbortSignal;
  readonly events: TargetEvents;
  /** Start TLS once connected (the tls adapter): the handshake is cancellable too. */
  readonly tls?: TlsConnectOptions;
}

/** The native socket under a node:net socket, in Bun: the same object Bun.connect gives. */
type NodeSocketInternals = { _handle?: StreamSocket | null };

/**
 * Opens a TCP connection (then TLS, if asked) that an abort cancels at once. `Bun.connect`
 * cannot be cancelled: a connect the target never answers keeps its descriptor until the kernel gives up (about two
 * minutes), long after the session's connect timeout. A node:net connect releases it on
 * `destroy()`, and in Bun it wraps the same native socket, which is taken over with the shared
 * stream handlers once open, so the relay runs on the native socket as before. node:net's wrapper
 * costs some CPU per connect (docs/benchmarks/ANALYSIS.md): the price of cancellable connects.
 */
export async function openCancellableTcp({
  address,
  port,
  where,
  signal,
  events,
  tls,
}: CancellableOpen): Promise<TargetConnection> {
  const state: SocketState = { events, finished: false, early: null };
  const socket = await connectCancellable(address, port, where, signal, state);
  closeIfAbandoned(socket, state, signal);
  return tls ? upgradeToTls(socket, state, tls, where, signal) : streamConnection(socket, state);
}

function connectCancellable(
  address: string,
  port: number,
  where: string,
  signal: AbortSignal,
  state: SocketState,
): Promise<StreamSocket> {
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
      reject(new ProxyError("connect_failed", `connect ${code} ${where}`));
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

function takeOver(pending: NetSocket, state: SocketState): StreamSocket | null {
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
  socket.reload({ socket: plainHandlers });
  socket.pause();
  socket.setNoDelay(true);
  return socket;
}
