import type { Socket, SocketHandler } from "bun";
import { ProxyError } from "../protocol/errors.ts";
import type { TargetConnection, TargetEvents } from "./types.ts";

/** Per-socket state shared by the byte-stream adapters (tcp, tls, unix). */
export interface SocketState {
  events: TargetEvents;
  /** Set once the relay has heard the end of this connection, or closed it itself. */
  finished: boolean;
  /** Bytes the target sent before a socket was taken over (tcp); delivered on the first resume. */
  early?: Uint8Array | null;
  /** TLS only: settles the `open` promise when the handshake is over. */
  handshake?: { readonly verify: boolean; done(error?: Error): void };
}

export type StreamSocket = Socket<SocketState>;

function finish(state: SocketState): TargetEvents | undefined {
  if (state.finished) return undefined;
  state.finished = true;
  return state.events;
}

export const plainHandlers: SocketHandler<SocketState> = {
  // Reading waits until the session has sent the client its `connected` status (first resume()).
  open(socket) {
    socket.pause();
    socket.setNoDelay(true);
  },
  data(socket, chunk) {
    socket.data.events.data(chunk);
  },
  drain(socket) {
    if (!socket.data.finished) socket.data.events.drain();
  },
  end(socket) {
    finish(socket.data)?.end();
  },
  error(socket, error) {
    const pending = socket.data.handshake;
    if (pending) pending.done(error);
    else finish(socket.data)?.error(error);
  },
  close(socket, error) {
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
 * TLS: Bun opens the socket before the handshake, and data written in `open` is lost; a failed
 * certificate check is reported only here (the connect promise resolves regardless). So `open`
 * must not pause (the handshake needs reading), and the connection is handed over only from here.
 */
const tlsHandlers: SocketHandler<SocketState> = {
  ...plainHandlers,
  open(socket) {
    socket.setNoDelay(true);
  },
  handshake(socket, success, error) {
    const pending = socket.data.handshake;
    if (!pending) return;
    socket.data.handshake = undefined;
    // `success` also reflects verification when verification is off (Bun 1.4.5 reports a
    // self-signed or misnamed certificate as a failure, yet keeps the connection open then).
    if (success || !pending.verify) {
      socket.pause();
      pending.done();
    } else {
      pending.done(error ?? new Error("TLS handshake failed"));
    }
  },
};

/**
 * How a stream adapter reaches its target: Bun.connect's options without `data` and `socket`.
 * `tls` must say `rejectUnauthorized` either way: Bun 1.4.5 reads `tls: {}` as no TLS at all.
 */
export type ConnectOptions =
  | {
      readonly hostname: string;
      readonly port: number;
      readonly tls?: Bun.TLSOptions & { readonly rejectUnauthorized: boolean };
    }
  | { readonly unix: string };

export interface StreamOpen {
  readonly connect: ConnectOptions;
  /** For messages: `127.0.0.1:443` or a path. */
  readonly where: string;
  readonly signal: AbortSignal;
  readonly events: TargetEvents;
}

/** Opens a byte-stream target with Bun.connect; its reading starts at the first `resume()`. */
export async function openStreamSocket({
  connect,
  where,
  signal,
  events,
}: StreamOpen): Promise<TargetConnection> {
  const tls = "tls" in connect ? connect.tls : undefined;
  const state: SocketState = { events, finished: false };
  let handshake: Promise<void> | undefined;
  if (tls) {
    handshake = new Promise<void>((resolve, reject) => {
      state.handshake = {
        verify: tls.rejectUnauthorized,
        done: (error) => (error ? reject(error) : resolve()),
      };
    });
    // Settled through `open`'s own await below; never an unhandled rejection on the way.
    handshake.catch(() => {});
  }
  let socket: StreamSocket;
  try {
    socket = await Bun.connect<SocketState>({
      ...connect,
      data: state,
      socket: tls ? tlsHandlers : plainHandlers,
    } as Parameters<typeof Bun.connect<SocketState>>[0]);
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).message;
    throw new ProxyError("connect_failed", `connect ${code} ${where}`);
  }
  const abandon = () => {
    state.finished = true;
    state.handshake = undefined;
    socket.terminate();
  };
  if (signal.aborted) {
    abandon();
    throw new ProxyError("connect_failed", "connection opened after it was abandoned");
  }
  if (handshake) {
    const onAbort = () => {
      const pending = state.handshake;
      abandon();
      pending?.done(new Error("abandoned during the TLS handshake"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      await handshake;
    } catch (error) {
      abandon();
      throw new ProxyError(
        "connect_failed",
        `TLS handshake with ${where} failed: ${tlsFailure(error)}`,
      );
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
    if (signal.aborted) {
      abandon();
      throw new ProxyError("connect_failed", "connection opened after it was abandoned");
    }
  }
  return streamConnection(socket, state);
}

/** The relay's view of an open stream socket (paused until the first `resume()`). */
export function streamConnection(socket: StreamSocket, state: SocketState): TargetConnection {
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

/** `DEPTH_ZERO_SELF_SIGNED_CERT self signed certificate`: the code first, for scripts. */
function tlsFailure(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = (error as Error).message ?? String(error);
  return code && code !== message ? `${code} ${message}` : message;
}
