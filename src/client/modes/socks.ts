import type { Socket } from "bun";
import { defineCommand } from "citty";
import { UsageError } from "../../config/usage-error.ts";
import { createLogger } from "../../log/logger.ts";
import { formatHostPort } from "../../net/host-port.ts";
import { fatal } from "../../process/exit.ts";
import { onShutdownSignal } from "../../process/signals.ts";
import { Socket2WebError } from "../errors.ts";
import {
  logLevelFlag,
  type ProxyEndpointOptions,
  parseLogLevel,
  parseSeconds,
  proxyEndpointFlags,
  type RawArgs,
  toServerEndpointOptions,
} from "./client-options.ts";
import { type WebSocketFactory, webSocketFactory } from "./client-socket.ts";
import { parseHostPort } from "./host-port-arg.ts";
import { assertKnownFlags, describe } from "./known-flags.ts";
import { explainListenError } from "./listen-error.ts";
import {
  LocalConnection,
  type LocalConnectionContext,
  type LocalSession,
} from "./local-proxy-connection.ts";
import type { LocalCredential, LocalRequest } from "./local-proxy-handshake.ts";
import { successReply } from "./local-proxy-handshake.ts";
import { failureOfError, failureReply } from "./local-proxy-refusal.ts";
import { MuxSession } from "./mux-session.ts";
import { explainFailure } from "./refusal.ts";
import { checkServer } from "./server-check.ts";
import { TcpBridge } from "./tcp-bridge.ts";
import { WispMux } from "./wisp-mux.ts";

const {
  target: _target,
  protocol: _protocol,
  field: _field,
  ...endpointFlags
} = proxyEndpointFlags;

export const DEFAULT_SOCKS_MAX_CONNECTIONS = 1024;
export const DEFAULT_SOCKS_HANDSHAKE_SECONDS = 10;
export const DEFAULT_PING_SECONDS = 15;

export const socksArgs = {
  listen: {
    type: "string",
    description: "Local address for SOCKS5 and HTTP proxy clients; port 0 picks a free one",
    valueHint: "host:port",
  },
  ...endpointFlags,
  "proxy-user": {
    type: "string",
    description:
      "Require this user name and password of local clients (SOCKS5 user/password, HTTP Proxy-Authorization Basic)",
    valueHint: "user:password",
  },
  "max-connections": {
    type: "string",
    description: `Local connections open at once; more are closed at once (default ${DEFAULT_SOCKS_MAX_CONNECTIONS})`,
    valueHint: "count",
  },
  "handshake-timeout": {
    type: "string",
    description: `Seconds a local client has to send its complete request (default ${DEFAULT_SOCKS_HANDSHAKE_SECONDS})`,
    valueHint: "seconds",
  },
  mux: {
    type: "boolean",
    description:
      "Carry every local connection as a stream of one Wisp connection (--server names the server's --wisp prefix)",
  },
  "ping-interval": {
    type: "string",
    description: `With --mux: ping the server this often; no answer by the next ping reconnects (default ${DEFAULT_PING_SECONDS})`,
    valueHint: "seconds",
  },
  ...logLevelFlag,
} as const;

export const SOCKS_REQUIRED = ["listen", "server"] as const;
export const SOCKS_EXAMPLES = [
  "socket2web socks --listen 127.0.0.1:1080 --server wss://proxy.example.com",
  "socket2web socks --listen 127.0.0.1:1080 --server wss://proxy.example.com/wisp/ --mux",
  "curl --socks5-hostname 127.0.0.1:1080 http://intranet.internal/",
];

/** Sessions get this long to close cleanly on SIGINT/SIGTERM before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 2000;

export interface SocksOptions {
  /** The server and credential; each request adds its own target. */
  endpoint: ProxyEndpointOptions;
  listen: { host: string; port: number };
  credential: LocalCredential | undefined;
  maxConnections: number;
  handshakeTimeoutMs: number;
  /** One Wisp connection for every local connection, pinged this often; undefined without --mux. */
  mux: { pingIntervalMs: number } | undefined;
  logLevel: ReturnType<typeof parseLogLevel>;
}

function parseCount(flag: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !/^[1-9][0-9]{0,6}$/.test(value))
    throw new UsageError(
      `--${flag} expects a whole number from 1 to 9999999, got ${describe(value)}`,
    );
  return Number(value);
}

function parseCredential(value: unknown): LocalCredential | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === "string" ? value : "";
  const colon = text.indexOf(":");
  // RFC 1929 carries each in at most 255 bytes.
  const fits = (part: string) => part.length > 0 && Buffer.byteLength(part) <= 255;
  if (colon < 0 || !fits(text.slice(0, colon)) || !fits(text.slice(colon + 1)))
    throw new UsageError(
      `--proxy-user expects user:password (each 1 to 255 bytes), got ${colon < 0 ? describe(value) : "a malformed value"}`,
    );
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

function parsePingInterval(value: unknown): number {
  const ms = parseSeconds("ping-interval", value ?? String(DEFAULT_PING_SECONDS), 3600);
  if (ms < 100)
    throw new UsageError(`--ping-interval expects at least 0.1 seconds, got ${describe(value)}`);
  return ms;
}

export function toSocksOptions(
  args: RawArgs,
  env: Record<string, string | undefined>,
  rawArgs: readonly string[] = [],
): SocksOptions {
  const listen = parseHostPort("listen", args.listen, { allowPortZero: true });
  const server = toServerEndpointOptions(args, env, rawArgs);
  return {
    endpoint: { ...server, protocol: "tcp", fields: {}, targetLabel: "" },
    listen,
    credential: parseCredential(args["proxy-user"]),
    maxConnections: parseCount(
      "max-connections",
      args["max-connections"],
      DEFAULT_SOCKS_MAX_CONNECTIONS,
    ),
    handshakeTimeoutMs: parseSeconds(
      "handshake-timeout",
      args["handshake-timeout"] ?? String(DEFAULT_SOCKS_HANDSHAKE_SECONDS),
      3600,
    ),
    mux:
      args.mux === true ? { pingIntervalMs: parsePingInterval(args["ping-interval"]) } : undefined,
    logLevel: parseLogLevel(args["log-level"]),
  };
}

/** The target of a request, as the handshake's fields and a label for log lines. */
export function requestTarget(request: LocalRequest): {
  fields: { target_ip: string; target_port: number };
  label: string;
} {
  const host = request.host.includes(":") ? `[${request.host}]` : request.host;
  return {
    fields: { target_ip: request.host, target_port: request.port },
    label: `${host}:${request.port}`,
  };
}

/** One WebSocket session per local connection, answered in the local protocol. */
function perConnectionOpener(
  options: SocksOptions,
  webSocket: WebSocketFactory,
  report: LocalConnectionContext["report"],
) {
  return (socket: Socket<LocalConnection>, request: LocalRequest): LocalSession => {
    const { fields, label } = requestTarget(request);
    const bridge = new TcpBridge(socket, {
      options: { ...options.endpoint, fields, targetLabel: label },
      webSocket,
      report,
      reply: {
        connected: () => successReply(request.protocol),
        failed: (error) => failureReply(request.protocol, failureOfError(error)),
      },
    });
    bridge.start();
    if (request.early.byteLength > 0) bridge.onData(request.early);
    return bridge;
  };
}

/** Every local connection as a stream of one Wisp connection. */
function muxOpener(mux: WispMux, lingerMs: number, report: LocalConnectionContext["report"]) {
  const unread = { bytes: 0 };
  return (socket: Socket<LocalConnection>, request: LocalRequest): LocalSession => {
    const session = new MuxSession(socket, request, { mux, lingerMs, unread, report });
    session.start();
    return session;
  };
}

/** The Wisp connection's headers: the user's, and --token as the credential the server reads. */
function muxHeaders(endpoint: ProxyEndpointOptions): Record<string, string> {
  const { headers, token } = endpoint;
  const hasAuthorization = Object.keys(headers).some(
    (name) => name.toLowerCase() === "authorization",
  );
  return token === undefined || hasAuthorization
    ? headers
    : { ...headers, Authorization: `Bearer ${token}` };
}

/** Opens the Wisp connection once before listening, so that a wrong --server is reported at start-up. */
async function startMux(
  options: SocksOptions,
  pingIntervalMs: number,
  report: LocalConnectionContext["report"],
): Promise<WispMux> {
  const endpoint = { ...options.endpoint, headers: muxHeaders(options.endpoint) };
  const mux = new WispMux({
    url: endpoint.server,
    webSocket: webSocketFactory(endpoint),
    connectTimeoutMs: endpoint.timeoutMs || 30_000,
    pingIntervalMs,
    report,
  });
  const problem = await mux.whenReady();
  if (problem !== undefined) {
    mux.stop();
    const error = new Socket2WebError("network_error", problem);
    fatal(`socks: ${await explainFailure(endpoint, endpoint.server, error)}`);
  }
  return mux;
}

/** The local listener: every connection reads its handshake, then its session carries it. */
export function startSocks(options: SocksOptions, context: LocalConnectionContext) {
  const connections = new Set<LocalConnection>();
  const listener = Bun.listen<LocalConnection>({
    hostname: options.listen.host,
    port: options.listen.port,
    allowHalfOpen: true,
    socket: {
      open(socket) {
        const connection = new LocalConnection(socket, context);
        socket.data = connection;
        if (connections.size >= options.maxConnections) {
          context.report(
            "warn",
            `${formatHostPort(socket.remoteAddress, socket.remotePort ?? 0)}: refused: --max-connections ${options.maxConnections} reached`,
          );
          socket.end();
          return;
        }
        connections.add(connection);
        connection.start();
      },
      data: (socket, chunk) => socket.data.onData(chunk),
      drain: (socket) => socket.data.onDrain(),
      end: (socket) => socket.data.onEnd(),
      close(socket) {
        connections.delete(socket.data);
        socket.data.onClose();
      },
      error() {
        // `close` follows.
      },
    },
  });
  return { listener, connections };
}

export const socksCommand = defineCommand({
  meta: {
    name: "socks",
    description:
      "A local SOCKS5 and HTTP proxy: each local connection goes through the proxy to the target it names",
  },
  args: socksArgs,
  async run({ args, rawArgs }) {
    assertKnownFlags(rawArgs, socksArgs);
    const options = toSocksOptions(args, process.env, rawArgs);
    const logger = createLogger(options.logLevel).withTag("socks");
    const report: LocalConnectionContext["report"] = (level, line) => logger[level](line);
    let open: LocalConnectionContext["open"];
    let mux: WispMux | undefined;
    if (options.mux) {
      mux = await startMux(options, options.mux.pingIntervalMs, report);
      open = muxOpener(mux, options.endpoint.lingerMs, report);
    } else {
      const check = await checkServer(options.endpoint);
      if (!check.ok) fatal(`socks: ${check.problem}`);
      open = perConnectionOpener(options, webSocketFactory(options.endpoint), report);
    }
    const context: LocalConnectionContext = {
      credential: options.credential,
      handshakeTimeoutMs: options.handshakeTimeoutMs,
      open,
      report,
    };
    let running: ReturnType<typeof startSocks>;
    try {
      running = startSocks(options, context);
    } catch (error) {
      fatal(`socks: ${explainListenError(error, options.listen)}`);
    }
    logger.info(
      `listening on ${formatHostPort(options.listen.host, running.listener.port)} (SOCKS5 and HTTP proxy), through ${options.endpoint.server.origin}${mux ? " (one Wisp connection)" : ""}`,
    );
    onShutdownSignal(async () => {
      running.listener.stop(false);
      for (const connection of running.connections) connection.stop();
      const deadline = Date.now() + SHUTDOWN_GRACE_MS;
      while (running.connections.size > 0 && Date.now() < deadline) await Bun.sleep(20);
      mux?.stop();
      process.exit(0);
    });
  },
});
