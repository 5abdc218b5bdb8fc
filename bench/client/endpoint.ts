// How a load client reaches a row: the dialect it speaks and where.

export type Endpoint =
  /** Plain TCP: the target itself (direct) or a TCP relay (socat). */
  | { dialect: "tcp"; host: string; port: number }
  /** A WebSocket speaking the Socket2Web protocol: greeting, JSON handshake, status. */
  | {
      dialect: "s2w";
      url: string;
      targetHost: string;
      targetPort: number;
      /** The adapter to ask for; `tcp` when absent. */
      protocol?: string;
    }
  /** The Socket2Web protocol with the handshake in the upgrade URL: no greeting, status first. */
  | { dialect: "s2w-url"; url: string; targetHost: string; targetPort: number }
  /** A WebSocket relayed to a fixed target (websockify): binary frames from the first byte. */
  | { dialect: "ws-raw"; url: string }
  /** A local SOCKS5 proxy (socket2web socks): CONNECT to the target by its IPv4 address. */
  | { dialect: "socks5"; host: string; port: number; targetHost: string; targetPort: number }
  /** A Wisp server, through wisp-js's own client library: one connection, one stream. */
  | { dialect: "wisp"; url: string; targetHost: string; targetPort: number };
