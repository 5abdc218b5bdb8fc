import { Socket as NetSocket } from "node:net";
import { ProxyError } from "../protocol/errors.ts";
import { connectAbandoned } from "./abandoned.ts";
import {
  connectFailure,
  plainHandlers,
  type SocketState,
  type StreamSocket,
} from "./stream-socket.ts";

/** The native socket under a node:net socket, in Bun: the same kind of object Bun.connect gives. */
type NodeSocketInternals = { _handle?: StreamSocket | null };

/**
 * Starts a TCP connect that an abort cancels at once. `Bun.connect` cannot be cancelled: a connect
 * the target never answers keeps its descriptor until the kernel gives up (about two minutes).
 * node:net's connect can: in Bun it creates the native socket at once and starts connecting it on
 * the next tick, and terminating that socket releases its descriptor. So node:net only starts the
 * connect; the native socket is adopted right after (the shared stream handlers, this session's
 * state), and node:net's stream machinery never runs for it (docs/benchmarks/ANALYSIS.md: its
 * cost). Resolves with the open socket.
 */
export function connectCancellable(
  address: string,
  port: number,
  where: string,
  signal: AbortSignal,
  state: SocketState,
): Promise<StreamSocket> {
  return new Promise((resolve, reject) => {
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
        reject(connectFailure(error, where));
      }
    };
    const abandon = () => {
      state.connecting = undefined;
      state.finished = true;
      if (adopted) socket.terminate();
      else starter.net.destroy();
      reject(connectAbandoned());
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
