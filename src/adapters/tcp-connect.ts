import { closeIfAbandoned, connectAbandoned } from "./abandoned.ts";
import { connectCancellable } from "./cancellable-connect.ts";
import { type ConnectBudget, uncancellableConnects } from "./connect-budget.ts";
import {
  connectFailure,
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

export interface TcpOpen {
  readonly address: string;
  readonly port: number;
  /** For messages: `127.0.0.1:443`. */
  readonly where: string;
  readonly signal: AbortSignal;
  readonly events: TargetEvents;
  /** Start TLS once connected (the tls adapter): the handshake is cancellable. */
  readonly tls?: TlsConnectOptions;
  /** Written as soon as the connection is up, before TLS starts (a PROXY protocol header). */
  readonly preamble?: Uint8Array | undefined;
  /** Where uncancellable connects are counted: the process's own unless a test gives one. */
  readonly budget?: ConnectBudget;
}

/**
 * Opens a TCP connection (then TLS, if asked), unread until the relay's first `resume()`.
 * `Bun.connect` costs about half the CPU of a connect started by node:net, but nothing can cancel
 * it. So a connect is direct while the budget of uncancellable connects has room, and cancellable
 * past it: a client whose targets never answer keeps at most the budget's size of descriptors
 * beyond its sessions, while ordinary connects, which settle in milliseconds, take the cheap path.
 * A direct connect that opens after its session gave up is closed at once.
 */
export async function openTcp({
  address,
  port,
  where,
  signal,
  events,
  tls,
  preamble,
  budget = uncancellableConnects,
}: TcpOpen): Promise<TargetConnection> {
  if (signal.aborted) throw connectAbandoned();
  const state = socketState(events);
  let socket: StreamSocket;
  if (budget.take()) {
    // Nothing cancels it: an abort does not end it (the session's deadline does not wait for
    // it), and its place in the budget is given back when the kernel settles it.
    try {
      socket = await Bun.connect<SocketState>({
        hostname: address,
        port,
        data: state,
        socket: plainHandlers,
      });
    } catch (error) {
      throw connectFailure(error, where);
    } finally {
      budget.give();
    }
  } else {
    socket = await connectCancellable(address, port, where, signal, state);
  }
  closeIfAbandoned(signal, state, () => socket.terminate());
  if (preamble) sendPreamble(socket, state, preamble, where);
  return tls ? upgradeToTls(socket, state, tls, where, signal) : streamConnection(socket, state);
}
