import { isIPv6 } from "node:net";
import type { udp as BunUdp } from "bun";
import { formatHostPort } from "../net/host-port.ts";
import { ProxyError } from "../protocol/errors.ts";
import { closeIfAbandoned } from "./abandoned.ts";
import { hostField, parseFields, portField } from "./fields.ts";
import { defineProtocol, type TargetConnection, type TargetEvents } from "./types.ts";

const fields = {
  target_ip: hostField("IP Address"),
  target_port: portField("Port for IP Address"),
};

/** The largest UDP payload: 65,535 minus the IP header (IPv4 20 bytes; IPv6's is not counted) and UDP's 8. */
export const MAX_DATAGRAM_BYTES = { ipv4: 65_507, ipv6: 65_527 } as const;

type UdpSocket = BunUdp.ConnectedSocket<"uint8array">;

interface UdpState {
  readonly events: TargetEvents;
  readonly address: string;
  readonly port: number;
  finished: boolean;
}

/**
 * Bun 1.4.5 calls a UDP socket's `error` with the error as its only argument (not `(socket,
 * error)` as its types say): take whichever argument is the error.
 */
function errorArgument(first: unknown, second: unknown): Error {
  if (second instanceof Error) return second;
  if (first instanceof Error) return first;
  return new Error(String(second ?? first));
}

function handlers(state: UdpState): BunUdp.ConnectedSocketHandler<"uint8array"> {
  return {
    data(_socket, datagram, port, address) {
      // The kernel delivers only the connected peer's datagrams; checked again, as the contract says.
      if (state.finished || port !== state.port || address !== state.address) return;
      state.events.data(datagram);
    },
    drain() {
      if (!state.finished) state.events.drain();
    },
    error(first: unknown, second?: unknown) {
      if (state.finished) return;
      state.finished = true;
      state.events.error(errorArgument(first, second));
    },
  };
}

/** Each client message is one datagram to the target; each datagram back is one message. */
export const udp = defineProtocol({
  name: "udp",
  fields,
  endpoint: "network",
  transport: "messages",
  parse: (handshake) => parseFields(fields, handshake),
  locate: (target) => ({ host: target.target_ip, port: target.target_port }),
  async open({ location: { address, port }, signal }, events) {
    const ipv6 = isIPv6(address);
    const state: UdpState = { events, address, port, finished: false };
    let socket: UdpSocket;
    try {
      socket = await Bun.udpSocket({
        // The local end must be of the target's family; the kernel picks the source address.
        hostname: ipv6 ? "::" : "0.0.0.0",
        port: 0,
        binaryType: "uint8array",
        connect: { hostname: address, port },
        socket: handlers(state),
      });
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error as Error).message;
      throw new ProxyError("connect_failed", `udp ${code} ${formatHostPort(address, port)}`);
    }
    closeIfAbandoned(signal, state, () => socket.close());
    return connection(socket, state, ipv6 ? MAX_DATAGRAM_BYTES.ipv6 : MAX_DATAGRAM_BYTES.ipv4);
  },
});

function connection(socket: UdpSocket, state: UdpState, maxMessageBytes: number): TargetConnection {
  const close = () => {
    state.finished = true;
    if (!socket.closed) socket.close();
  };
  return {
    maxMessageBytes,
    /**
     * One datagram, whole: `send` is false when the socket buffer is full (-1: the message is
     * offered again after `drain`). An error the kernel reports for the send (ENOBUFS and the like)
     * throws: the datagram is lost, as UDP would lose it, and the relay counts it.
     */
    write: (message) => (socket.send(message) ? message.byteLength : -1),
    // A UDP socket cannot stop reading: the relay drops what the client cannot take, and counts it.
    pause() {},
    resume() {},
    end: close,
    destroy: close,
  };
}
