import { readFileSync } from "node:fs";
import { UsageError } from "../../cli/usage-error.ts";
import { type Connection, connect } from "../index.ts";
import type { ProxyEndpointOptions } from "./client-options.ts";

type BunWebSocketConstructor = new (url: string, options: Bun.WebSocketOptions) => WebSocket;

/**
 * How the CLI opens its WebSockets: Bun's client, with the TLS options of `--ca` and
 * `--insecure`. Compression stays off: proxied bytes are often already compressed or
 * encrypted, and deflate would cost CPU on both ends for nothing.
 */
export function webSocketFactory(
  options: Pick<ProxyEndpointOptions, "server" | "ca" | "insecure">,
): (url: string) => WebSocket {
  const BunWebSocket = WebSocket as unknown as BunWebSocketConstructor;
  if (options.server.protocol !== "wss:") {
    return (url) => new BunWebSocket(url, { perMessageDeflate: false });
  }
  let ca: string | undefined;
  if (options.ca !== undefined) {
    try {
      ca = readFileSync(options.ca, "utf8");
    } catch (error) {
      throw new UsageError(`--ca cannot read ${options.ca}: ${(error as Error).message}`);
    }
  }
  const tls = { ...(ca === undefined ? {} : { ca }), rejectUnauthorized: !options.insecure };
  return (url) => new BunWebSocket(url, { perMessageDeflate: false, tls });
}

/** Opens a session through the proxy with a client command's options. */
export function connectThroughProxy(
  options: ProxyEndpointOptions,
  webSocket: (url: string) => WebSocket,
): Promise<Connection> {
  return connect(options.server, {
    protocol: options.protocol,
    target_ip: options.target.host,
    target_port: options.target.port,
    token: options.token,
    timeout: options.timeoutMs,
    webSocket,
  });
}
