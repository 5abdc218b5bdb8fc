// An in-process Bun.serve hosting the Wisp connection logic, for tests of the protocol itself.
// The real server wires the same classes into its session machinery.
import type { Server, ServerWebSocket } from "bun";
import { tcp } from "../../src/adapters/tcp.ts";
import { createLogger } from "../../src/log/logger.ts";
import { createPolicy, type Policy } from "../../src/policy/policy.ts";
import { mapResolver } from "../../src/policy/resolver.ts";
import type { FlowLimits } from "../../src/relay/relay.ts";
import { type WispAccess, WispConnection } from "../../src/wisp/connection.ts";
import { directOpener } from "../../src/wisp/direct-opener.ts";
import type { StreamOpener } from "../../src/wisp/opener.ts";
import type { WispStream } from "../../src/wisp/stream.ts";
import { parseWsproxyTarget, WsproxyConnection } from "../../src/wisp/wsproxy.ts";

export interface WispHostOptions {
  readonly policy?: Policy;
  readonly maxStreams?: number;
  readonly bufferPackets?: number;
  /** Require this password through Wisp 2's password extension. */
  readonly password?: string;
  readonly flow?: FlowLimits;
  readonly connectTimeout?: number;
  readonly infoTimeoutMs?: number;
}

type Handler = WispConnection | WsproxyConnection;
interface SocketData {
  make(ws: ServerWebSocket<SocketData>): Handler;
  handler?: Handler;
}

export interface WispHost {
  readonly url: string;
  readonly port: number;
  readonly server: Server<SocketData>;
  readonly connections: Set<WispConnection>;
  readonly finished: WispStream[];
  stop(): void;
}

export const PREFIX = "/wisp/";

export function startWispHost(options: WispHostOptions = {}): WispHost {
  const logger = createLogger("warn");
  const flow = options.flow ?? { highWater: 1024 * 1024, lowWater: 256 * 1024 };
  const open: StreamOpener = directOpener({
    policy: options.policy ?? createPolicy({ allow: [], deny: [] }),
    resolver: mapResolver({ localhost: "127.0.0.1" }),
    grant: { ok: true, kind: "anonymous" },
    connectTimeout: options.connectTimeout ?? 5,
    adapters: { tcp },
  });
  const access: WispAccess = options.password
    ? {
        kind: "password",
        authenticate: async (_user, password) => (password === options.password ? open : undefined),
      }
    : { kind: "open", open };
  const connections = new Set<WispConnection>();
  const finished: WispStream[] = [];
  let nextId = 1;

  const server = Bun.serve<SocketData>({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request, srv) {
      const { pathname } = new URL(request.url);
      if (!pathname.startsWith(PREFIX)) return new Response("not found", { status: 404 });
      const offered = request.headers.get("sec-websocket-protocol");
      const subprotocol = offered?.split(",")[0]?.trim();
      const headers = subprotocol ? { "sec-websocket-protocol": subprotocol } : undefined;
      let make: SocketData["make"];
      if (pathname.endsWith("/")) {
        const label = `wisp ${nextId++}`;
        make = (ws) => {
          const connection = new WispConnection(ws, {
            version: subprotocol ? 2 : 1,
            bufferPackets: options.bufferPackets ?? 128,
            maxStreams: options.maxStreams ?? 128,
            udp: false,
            access,
            flow,
            logger,
            label,
            infoTimeoutMs: options.infoTimeoutMs,
            streamFinished: (stream) => finished.push(stream),
          });
          connections.add(connection);
          connection.start();
          return connection;
        };
      } else {
        const target = parseWsproxyTarget(pathname.slice(pathname.lastIndexOf("/") + 1));
        if (typeof target === "string") return new Response(target, { status: 400 });
        make = (ws) => {
          const connection = new WsproxyConnection(ws, target, flow);
          connection.start(open);
          return connection;
        };
      }
      return srv.upgrade(request, { data: { make }, headers })
        ? undefined
        : new Response("upgrade failed", { status: 400 });
    },
    websocket: {
      backpressureLimit: 0,
      closeOnBackpressureLimit: false,
      open(ws) {
        ws.data.handler = ws.data.make(ws);
      },
      message(ws, message) {
        ws.data.handler?.message(message);
      },
      drain(ws) {
        ws.data.handler?.drain();
      },
      close(ws) {
        const handler = ws.data.handler;
        handler?.closed();
        if (handler instanceof WispConnection) connections.delete(handler);
      },
    },
  });
  return {
    url: `ws://127.0.0.1:${server.port}${PREFIX}`,
    port: server.port as number,
    server,
    connections,
    finished,
    stop: () => server.stop(true),
  };
}
