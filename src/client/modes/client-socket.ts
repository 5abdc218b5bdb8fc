import { readCertificates } from "../../config/certificates.ts";
import { type Connection, connect } from "../index.ts";
import { handshakeUrl } from "../messages.ts";
import type { ProxyEndpointOptions } from "./client-options.ts";

type BunWebSocketConstructor = new (url: string, options: Bun.WebSocketOptions) => WebSocket;

export type WebSocketFactory = (url: string) => WebSocket;

/** TLS options for `wss://` from `--ca` and `--insecure`; undefined for `ws://`. */
export function tlsOptions(
  options: Pick<ProxyEndpointOptions, "server" | "ca" | "insecure">,
): { ca?: string; rejectUnauthorized: boolean } | undefined {
  if (options.server.protocol !== "wss:") return undefined;
  const ca = options.ca === undefined ? undefined : readCertificates(options.ca, "--ca");
  return { ...(ca === undefined ? {} : { ca }), rejectUnauthorized: !options.insecure };
}

/**
 * How the CLI opens its WebSockets: Bun's client, with `--origin`/`--header` and the TLS options
 * of `--ca` and `--insecure`. Compression stays off: proxied bytes are often already compressed
 * or encrypted, and deflate would cost CPU on both ends for nothing.
 */
export function webSocketFactory(
  options: Pick<ProxyEndpointOptions, "server" | "ca" | "insecure" | "headers">,
): WebSocketFactory {
  const BunWebSocket = WebSocket as unknown as BunWebSocketConstructor;
  const tls = tlsOptions(options);
  const { headers } = options;
  return (url) =>
    new BunWebSocket(url, { perMessageDeflate: false, headers, ...(tls ? { tls } : {}) });
}

/** Opens a session through the proxy with a client command's options. */
export function connectThroughProxy(
  options: ProxyEndpointOptions,
  webSocket: WebSocketFactory,
): Promise<Connection> {
  return connect(options.server, {
    protocol: options.protocol,
    fields: options.fields,
    token: options.token,
    timeout: options.timeoutMs,
    handshake: options.handshake,
    webSocket,
  });
}

/** The URL a session's upgrade goes to: with the handshake in its query, in the URL form. */
export function sessionUrl(options: ProxyEndpointOptions): URL {
  if (options.handshake !== "url") return options.server;
  const { protocol, fields, token } = options;
  return handshakeUrl(options.server, { protocol, fields, token });
}
