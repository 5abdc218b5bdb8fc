import type { Socket, SocketHandler } from "bun";
import { ProxyError } from "../protocol/errors.ts";
import { closeIfAbandoned } from "./abandoned.ts";
import type { TargetConnection, TargetEvents } from "./types.ts";

/** Per-socket state shared by the byte-stream adapters (tcp, tls, unix). */
export interface SocketState {
  events: TargetEvents;
  /** Set once the relay has heard the end of this connection, or closed it itself. */
  finished: boolean;
  /** A cancellable connect in progress (tcp, tls): settled by open, or by its failure. */
  connecting?: { done(error?: Error): void };
  /** TLS only: settles the `open` promise when the handshake is over. */
  handshake?: { readonly verify: boolean; done(error?: Error): void };
  /** The relay wants bytes: set by `resume()`, cleared by `pause()`; false until the first. */
  reading: boolean;
  /** The socket is paused: `socket.pause()` was called and no `socket.resume()` since. */
  paused: boolean;
}

/** A socket's state before it opens: not read, not paused. */
export function socketState(events: TargetEvents): SocketState {
  return { events, finished: false, reading: false, paused: false };
}

export type StreamSocket = Socket<SocketState>;

function finish(state: SocketState): TargetEvents | undefined {
  if (state.finished) return undefined;
  state.finished = true;
  return state.events;
}

/** Stops reading the socket, unless it is stopped already (each call is an `epoll_ctl`). */
function pauseSocket(socket: StreamSocket, state: SocketState): void {
  if (state.paused) return;
  state.paused = true;
  socket.pause();
}

/**
 * The relay reads from its first `resume()`, after the session has sent the client its
 * `connected` status. The socket is not paused at `open` for that: the session attaches its relay
 * in the same turn (no event can come between), and a target that talks before it has is paused
 * at its first chunk, which the relay (or a raw session's latch) holds. So an ordinary session
 * costs no pause and resume, two `epoll_ctl`s each. No setNoDelay: Bun sets TCP_NODELAY on every
 * socket it connects (docs/bun-notes.md).
 */
export const plainHandlers: SocketHandler<SocketState> = {
  open(socket) {
    socket.data.connecting?.done();
  },
  connectError(socket, error) {
    // Nothing of a socket whose connect failed reaches the session's events.
    socket.data.finished = true;
    socket.data.connecting?.done(error);
  },
  data(socket, chunk) {
    const state = socket.data;
    if (!state.reading) pauseSocket(socket, state);
    state.events.data(chunk);
  },
  drain(socket) {
    if (!socket.data.finished) socket.data.events.drain();
  },
  end(socket) {
    finish(socket.data)?.end();
  },
  error(socket, error) {
    const pending = socket.data.connecting ?? socket.data.handshake;
    if (pending) pending.done(error);
    else finish(socket.data)?.error(error);
  },
  close(socket, error) {
    const connecting = socket.data.connecting;
    if (connecting) {
      connecting.done(error ?? new Error("closed while connecting"));
      return;
    }
    const pending = socket.data.handshake;
    if (pending) {
      pending.done(error ?? new Error("the connection closed during the TLS handshake"));
      return;
    }
    const events = finish(socket.data);
    if (error) events?.error(error);
    else events?.end();
  },
};

/**
 * TLS: data written before the handshake is lost, and a failed certificate check is reported only
 * here. So `open` must not pause (the handshake needs reading), and the connection is handed over
 * only from here.
 */
const tlsHandlers: SocketHandler<SocketState> = {
  ...plainHandlers,
  // The TCP socket under it has TCP_NODELAY already.
  open() {},
  handshake(socket, success, error) {
    const pending = socket.data.handshake;
    if (!pending) return;
    socket.data.handshake = undefined;
    // `success` also reflects verification when verification is off (Bun 1.4.5 reports a
    // self-signed or misnamed certificate as a failure, yet keeps the connection open then).
    if (success || !pending.verify) {
      pauseSocket(socket, socket.data);
      pending.done();
    } else {
      pending.done(error ?? new Error("TLS handshake failed"));
    }
  },
};

export interface UnixOpen {
  readonly path: string;
  readonly signal: AbortSignal;
  readonly events: TargetEvents;
  /** Written as soon as the connection is up (a PROXY protocol header). */
  readonly preamble?: Uint8Array | undefined;
}

/**
 * Writes what the target must get before anything else on a socket just opened. Its send buffer
 * is empty and the preamble is far smaller than it (a PROXY header is at most a few hundred
 * bytes), so it goes at once; a socket that takes less is dropped rather than sending client
 * bytes the target would read as part of the header.
 */
export function sendPreamble(
  socket: StreamSocket,
  state: SocketState,
  preamble: Uint8Array,
  where: string,
): void {
  const written = socket.write(preamble);
  if (written === preamble.length) return;
  state.finished = true;
  socket.terminate();
  throw new ProxyError(
    "connect_failed",
    `the PROXY protocol header could not be sent to ${where} at once (${Math.max(0, written)} of ${preamble.length} bytes)`,
  );
}

/**
 * Opens a unix-socket target with Bun.connect; its reading starts at the first `resume()`. A unix
 * connect never waits on a peer (a full backlog fails at once), so it needs no cancelling.
 */
export async function openUnixSocket({
  path,
  signal,
  events,
  preamble,
}: UnixOpen): Promise<TargetConnection> {
  const state = socketState(events);
  let socket: StreamSocket;
  try {
    socket = await Bun.connect<SocketState>({ unix: path, data: state, socket: plainHandlers });
  } catch (error) {
    throw connectFailure(error, path);
  }
  closeIfAbandoned(signal, state, () => socket.terminate());
  if (preamble) sendPreamble(socket, state, preamble, path);
  return streamConnection(socket, state);
}

/** A connect that failed: `connect ECONNREFUSED 127.0.0.1:9`, the code first, for scripts. */
export function connectFailure(error: unknown, where: string): ProxyError {
  const code = (error as { code?: string }).code ?? (error as Error).message;
  return new ProxyError("connect_failed", `connect ${code} ${where}`);
}

/** TLS options as the tls adapter gives them: verification is always said, never a default. */
export type TlsConnectOptions = Bun.TLSOptions & { readonly rejectUnauthorized: boolean };

/** The raw side of an upgraded socket: the TLS layer reads it, nothing else may. */
const rawSideHandlers: SocketHandler<SocketState> = {
  data() {},
  close() {},
  error() {},
};

/**
 * Starts TLS on an open TCP socket (taken over from a cancellable connect) and waits for the
 * handshake; an abort meanwhile closes the socket at once.
 */
export async function upgradeToTls(
  raw: StreamSocket,
  state: SocketState,
  tls: TlsConnectOptions,
  where: string,
  signal: AbortSignal,
): Promise<TargetConnection> {
  const handshake = new Promise<void>((resolve, reject) => {
    state.handshake = {
      verify: tls.rejectUnauthorized,
      done: (error) => (error ? reject(error) : resolve()),
    };
  });
  // Settled through the await below; never an unhandled rejection on the way.
  handshake.catch(() => {});
  raw.reload({ socket: rawSideHandlers });
  const [, socket] = raw.upgradeTLS<SocketState>({ data: state, tls, socket: tlsHandlers });
  const abandon = () => {
    const pending = state.handshake;
    state.finished = true;
    state.handshake = undefined;
    socket.terminate();
    pending?.done(new Error("abandoned during the TLS handshake"));
  };
  signal.addEventListener("abort", abandon, { once: true });
  try {
    await handshake;
  } catch (error) {
    state.finished = true;
    socket.terminate();
    throw new ProxyError(
      "connect_failed",
      signal.aborted
        ? "connect abandoned during the TLS handshake"
        : `TLS handshake with ${where} failed: ${tlsFailure(error)}`,
    );
  } finally {
    signal.removeEventListener("abort", abandon);
  }
  return streamConnection(socket, state);
}

/** The relay's view of an open stream socket (not read until the first `resume()`). */
export function streamConnection(socket: StreamSocket, state: SocketState): TargetConnection {
  return new StreamConnection(socket, state);
}

/** A class, not an object of closures: one per session, and sessions open by the thousand. */
class StreamConnection implements TargetConnection {
  constructor(
    private readonly socket: StreamSocket,
    private readonly state: SocketState,
  ) {}

  write(chunk: Uint8Array): number {
    return Math.max(0, this.socket.write(chunk));
  }

  pause(): void {
    this.state.reading = false;
    pauseSocket(this.socket, this.state);
  }

  resume(): void {
    const state = this.state;
    state.reading = true;
    if (!state.paused) return;
    state.paused = false;
    this.socket.resume();
  }

  end(): void {
    this.state.finished = true;
    this.socket.end();
  }

  destroy(): void {
    this.state.finished = true;
    this.socket.terminate();
  }
}

/** `DEPTH_ZERO_SELF_SIGNED_CERT self signed certificate`: the code first, for scripts. */
function tlsFailure(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = (error as Error).message ?? String(error);
  return code && code !== message ? `${code} ${message}` : message;
}
