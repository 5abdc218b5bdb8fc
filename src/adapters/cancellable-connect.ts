import { Socket as NetSocket } from "node:net";
import { ProxyError } from "../protocol/errors.ts";
import { closeIfAbandoned } from "./abandoned.ts";
import {
  plainHandlers,
  type SocketState,
  type StreamSocket,
  sendPreamble,
  socketState,
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
  /** Written as soon as the connection is up, before TLS starts (a PROXY protocol header). */
  readonly preamble?: Uint8Array | undefined;
}

/** The native socket under a node:net socket, in Bun: the same kind of object Bun.connect gives. */
type NodeSocketInternals = { _handle?: StreamSocket | null };

/**
 * Opens a TCP connection (then TLS, if asked) that an abort cancels at once. `Bun.connect`
 * cannot be cancelled: a connect the target never answers keeps its descriptor until the kernel
 * gives up (about two minutes), long after the session's connect timeout. node:net's connect
 * can: in Bun it creates the native socket at once and starts connecting it on the next tick,
 * and terminating that socket releases its descriptor. So node:net only starts the connect; the
 * native socket is adopted right after (the shared stream handlers, this session's state), and
 * node:net's stream machinery never runs for it (docs/benchmarks/ANALYSIS.md: its cost).
 */
export async function openCancellableTcp({
  address,
  port,
  where,
  signal,
  events,
  tls,
  preamble,
}: CancellableOpen): Promise<TargetConnection> {
  const state = socketState(events);
  const socket = await connectCancellable(address, port, where, signal, state);
  closeIfAbandoned(signal, state, () => socket.terminate());
  if (preamble) sendPreamble(socket, state, preamble, where);
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
    const starter = takeStarter();
    starter.net.connect({ host: address, port });
    const socket = (starter.net as unknown as NodeSocketInternals)._handle;
    if (!socket || typeof socket.reload !== "function") {
      starter.net.destroy();
      reject(new ProxyError("connect_failed", "no native socket under node:net"));
      return;
    }
    let adopted = false;
    const settle = (error?: Error) => {
      state.connecting = undefined;
      signal.removeEventListener("abort", abandon);
      if (!error) resolve(socket);
      else {
        // Nothing of this socket reaches the session's events once its connect has failed.
        state.finished = true;
        const code = (error as { code?: string }).code ?? error.message;
        reject(new ProxyError("connect_failed", `connect ${code} ${where}`));
      }
    };
    const abandon = () => {
      state.connecting = undefined;
      state.finished = true;
      if (adopted) socket.terminate();
      else starter.net.destroy();
      reject(new ProxyError("connect_failed", "connect abandoned"));
    };
    signal.addEventListener("abort", abandon, { once: true });
    state.connecting = { done: settle };
    // A failure node:net reports before the socket is adopted (one its connect call met at once).
    starter.failed = (error) => {
      if (!adopted && state.connecting) settle(error);
    };
    // Runs after node:net's own next-tick step, which issued the native connect with its handlers.
    // A connect that failed there at once (EADDRNOTAVAIL: no ephemeral port left) has destroyed
    // the node:net socket, whose "error" event, on a later tick, settles this promise.
    process.nextTick(() => {
      if (!state.connecting || starter.net.destroyed) return;
      adopted = true;
      adopt(starter.net, socket, state);
      releaseStarter(starter);
    });
  });
}

/**
 * A node:net socket that starts connects. Building one (a Node stream with its states and
 * listeners) was the larger part of node:net's cost per connect, and once its native socket is
 * adopted nothing of that connect is left in it: its next `connect()` makes a new native socket.
 * So it starts the next one too, unless node:net destroyed it (a failed or abandoned connect).
 */
class Starter {
  readonly net = new NetSocket();
  /** The connect under way: told of a failure node:net reports before its socket is adopted. */
  failed: ((error: Error) => void) | undefined;

  constructor() {
    this.net.on("error", (error: Error) => this.failed?.(error));
  }
}

/** Starters whose last connect was adopted; more than this many at once are dropped. */
const idleStarters: Starter[] = [];
const MOST_IDLE_STARTERS = 64;

function takeStarter(): Starter {
  return idleStarters.pop() ?? new Starter();
}

function releaseStarter(starter: Starter): void {
  starter.failed = undefined;
  if (idleStarters.length < MOST_IDLE_STARTERS) idleStarters.push(starter);
}

/** node:net's private key on a native socket for the node:net socket that owns it. */
let ownerKey: symbol | undefined;

function adopt(starter: NetSocket, socket: StreamSocket, state: SocketState): void {
  // The native socket points back at the node:net socket (its stream states, a few KiB per
  // session): unlink both ways so that the node:net object is collected.
  ownerKey ??= Object.getOwnPropertySymbols(socket).find(
    (key) => key.description === "owner_symbol",
  );
  if (ownerKey) Reflect.deleteProperty(socket, ownerKey);
  (starter as unknown as NodeSocketInternals)._handle = null;
  socket.data = state;
  socket.reload({ socket: plainHandlers });
}
