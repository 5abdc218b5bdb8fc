// An in-process Bun.serve hosting the Wisp connection logic on Socket2Web's own Session, for tests
// of the protocol itself. The real server wires the same classes (tests/e2e/wisp.test.ts).
import type { Server, ServerWebSocket } from "bun";
import { tcp } from "../../src/adapters/tcp.ts";
import { createCredentialCheck } from "../../src/auth/credentials.ts";
import { createLogger } from "../../src/log/logger.ts";
import { mapResolver } from "../../src/net/resolver.ts";
import { createPolicy, type Policy } from "../../src/policy/policy.ts";
import type { FlowLimits } from "../../src/relay/relay.ts";
import { WebSocketClient } from "../../src/server/websocket-client.ts";
import { Session, type SessionContext } from "../../src/session/session.ts";
import { silentStatus } from "../../src/session/status.ts";
import { type WispAccess, WispConnection } from "../../src/wisp/connection.ts";
import type { CreditLimits } from "../../src/wisp/credit.ts";
import type { OutboundHold } from "../../src/wisp/outbound.ts";
import { WISP_CREDIT } from "../../src/wisp/serve.ts";
import type { WispStream } from "../../src/wisp/stream.ts";
import { parseWsproxyTarget } from "../../src/wisp/wsproxy.ts";

export interface WispHostOptions {
  readonly policy?: Policy;
  readonly maxStreams?: number;
  readonly credit?: CreditLimits;
  /** Require this password through Wisp 2's password extension. */
  readonly password?: string;
  readonly flow?: FlowLimits;
  readonly connectTimeout?: number;
  readonly idleTimeout?: number;
  readonly infoTimeoutMs?: number;
  readonly outbound?: OutboundHold;
}

type Handler = WispConnection | Session;
interface SocketData {
  make(ws: ServerWebSocket<SocketData>): Handler;
  handler?: Handler;
}

export interface WispHost {
  readonly url: string;
  readonly port: number;
  readonly server: Server<SocketData>;
  readonly connections: Set<WispConnection>;
  /** Streams whose client side has ended, in that order. */
  readonly finished: WispStream[];
  stop(): void;
}

export const PREFIX = "/wisp/";

let nextId = 1;

export function startWispHost(options: WispHostOptions = {}): WispHost {
  const logger = createLogger("warn");
  const flow = options.flow ?? { highWater: 1024 * 1024, lowWater: 256 * 1024 };
  const context: SessionContext = {
    settings: {
      handshakeTimeout: 10,
      maxLifetime: 0,
      connectTimeout: options.connectTimeout ?? 5,
      idleTimeout: options.idleTimeout ?? 0,
    },
    logger,
    flow,
    policy: options.policy ?? createPolicy({ allow: [], deny: [] }),
    resolver: mapResolver({ localhost: "127.0.0.1" }),
    credentials: createCredentialCheck({}),
    onClosed: () => {},
  };
  const access: WispAccess = options.password
    ? {
        kind: "password",
        authenticate: async (password) =>
          password === options.password ? { ok: true, kind: "token" } : undefined,
      }
    : { kind: "open", grant: undefined };
  const connections = new Set<WispConnection>();
  const finished: WispStream[] = [];

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
            credit: options.credit ?? WISP_CREDIT,
            maxStreams: options.maxStreams ?? 128,
            adapters: { tcp },
            access,
            session: ({ client, selection, status, grant, streamId }) =>
              new Session(context, {
                id: nextId++,
                client,
                chooser: { kind: "fixed", selection },
                status,
                clientAddress: `${label} stream ${streamId}`,
                grant,
              }),
            logger,
            label,
            infoTimeoutMs: options.infoTimeoutMs,
            ...(options.outbound ? { outbound: options.outbound } : {}),
            streamFinished: (stream) => finished.push(stream),
          });
          connections.add(connection);
          connection.start();
          return connection;
        };
      } else {
        const target = parseWsproxyTarget(pathname.slice(pathname.lastIndexOf("/") + 1));
        if (typeof target === "string") return new Response(target, { status: 400 });
        // wsproxy: a raw session, its target fixed by the URL.
        make = (ws) => {
          const selection = {
            adapter: tcp,
            target: tcp.parse({ target_ip: target.host, target_port: target.port }),
            echo: {},
            token: undefined,
          };
          const session = new Session(context, {
            id: nextId++,
            client: new WebSocketClient(ws, 60_000, 0),
            chooser: { kind: "fixed", selection },
            status: silentStatus,
            clientAddress: "wsproxy",
          });
          session.start();
          return session;
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
        const handler = ws.data.handler;
        if (handler instanceof WispConnection) handler.drain();
        else handler?.clientDrained();
      },
      close(ws, code) {
        const handler = ws.data.handler;
        if (handler instanceof WispConnection) {
          handler.closed(code);
          connections.delete(handler);
        } else {
          handler?.clientClosed(code);
        }
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
