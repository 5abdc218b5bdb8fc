// Opens one session on a row, in the row's dialect.
import type { Conn } from "./conn.ts";
import { dialSocks } from "./dial-socks.ts";
import { dialTcp } from "./dial-tcp.ts";
import { dialWisp } from "./dial-wisp.ts";
import { dialWs } from "./dial-ws.ts";
import type { Endpoint } from "./endpoint.ts";

export function dial(endpoint: Endpoint, timeoutMs: number): Promise<Conn> {
  switch (endpoint.dialect) {
    case "tcp":
      return dialTcp(endpoint.host, endpoint.port, timeoutMs);
    case "s2w":
      return dialWs({
        url: endpoint.url,
        handshake: {
          protocol: endpoint.protocol ?? "tcp",
          target_ip: endpoint.targetHost,
          target_port: endpoint.targetPort,
        },
        timeoutMs,
      });
    case "s2w-url": {
      const url = new URL(endpoint.url);
      url.search = new URLSearchParams({
        protocol: "tcp",
        target_ip: endpoint.targetHost,
        target_port: String(endpoint.targetPort),
      }).toString();
      return dialWs({ url: String(url), handshake: null, statusFirst: true, timeoutMs });
    }
    case "ws-raw":
      return dialWs({ url: endpoint.url, handshake: null, protocols: ["binary"], timeoutMs });
    case "socks5":
      return dialSocks(
        endpoint.host,
        endpoint.port,
        endpoint.targetHost,
        endpoint.targetPort,
        timeoutMs,
      );
    case "wisp":
      return dialWisp(endpoint.url, endpoint.targetHost, endpoint.targetPort, timeoutMs);
  }
}
