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
    const state: SocketState = { events, finished: false };
    let socket: Socket<SocketState>;
    try {
      socket = await Bun.connect<SocketState>({
        hostname: address,
        port,
        data: state,
        socket: handlers,
      });
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error as Error).message;
      throw new ProxyError("connect_failed", `connect ${code} ${formatHostPort(address, port)}`);
    }
    if (signal.aborted) {
      state.finished = true;
      socket.terminate();
      throw new ProxyError("connect_failed", "connection opened after it was abandoned");
    }
    return connection(socket, state);
  },
});

function connection(socket: Socket<SocketState>, state: SocketState): TargetConnection {
  return {
    write: (chunk) => Math.max(0, socket.write(chunk)),
    pause: () => socket.pause(),
    resume: () => socket.resume(),
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
