import type { Server, ServerWebSocket } from "bun";
import { builtinAdapters } from "../adapters/index.ts";
import { createRegistry } from "../adapters/registry.ts";
import type { AnyProtocolAdapter } from "../adapters/types.ts";
import type { Logger } from "../log/logger.ts";
import { formatHostPort } from "../net/host-port.ts";
import { CloseCode, CloseReason } from "../protocol/constants.ts";
import type { FlowLimits } from "../relay/relay.ts";
import type { ResolveTarget } from "../session/resolve.ts";
import { Session, type SessionContext } from "../session/session.ts";
import { VERSION } from "../version.ts";
import type { ServerConfig } from "./config.ts";
import { routeRequest } from "./routes.ts";

/**
 * Per-connection backlog in each direction before the side that is ahead stops being read: large
 * enough to keep a 64 KiB-message stream moving at loopback speed, small enough that 10,000 busy
 * sessions stay within a few GiB at worst.
 */
export const DEFAULT_FLOW: FlowLimits = { highWater: 1024 * 1024, lowWater: 256 * 1024 };

export interface ServerDeps {
  readonly logger: Logger;
  readonly resolve: ResolveTarget;
  readonly adapters?: readonly AnyProtocolAdapter[];
  readonly flow?: FlowLimits;
}

export interface ProxyServer {
  readonly url: string;
  readonly port: number;
  readonly sessions: ReadonlySet<Session>;
  /** Stops accepting, lets sessions flush for at most `graceMs`, then closes them all with 1001. */
  shutdown(graceMs?: number): Promise<void>;
}

export function startServer(config: ServerConfig, deps: ServerDeps): ProxyServer {
  const sessions = new Set<Session>();
  let accepting = true;
  const context: SessionContext = {
    config,
    logger: deps.logger,
    registry: createRegistry(deps.adapters ?? builtinAdapters, `socket2web/${VERSION}`),
    flow: deps.flow ?? DEFAULT_FLOW,
    resolve: deps.resolve,
    onClosed: (session) => sessions.delete(session),
  };

  const server: Server<Session> = Bun.serve<Session>({
    hostname: config.ip,
    port: config.port,
    fetch(request, server) {
      return routeRequest(request, {
        ready: () => accepting,
        sessions: () => sessions.size,
        upgrade() {
          const client = server.requestIP(request);
          const clientAddress = client ? formatHostPort(client.address, client.port) : "unknown";
          return server.upgrade(request, { data: new Session(context, clientAddress) });
        },
      });
    },
    websocket: {
      maxPayloadLength: config.maxMessageSize,
      // Never let Bun drop a frame: the relay pauses the target well before this would matter.
      backpressureLimit: 0,
      closeOnBackpressureLimit: false,
      perMessageDeflate: false,
      open(ws: ServerWebSocket<Session>) {
        const session = ws.data;
        if (!accepting) {
          session.refuse(ws, CloseCode.goingAway, CloseReason.shuttingDown);
        } else if (sessions.size >= config.maxConnections) {
          session.refuse(ws, CloseCode.tryAgainLater, CloseReason.atCapacity);
        } else {
          session.counted = true;
          sessions.add(session);
          session.start(ws);
        }
      },
      message: (ws, message) => ws.data.message(message),
      drain: (ws) => ws.data.drain(),
      close: (ws, code) => ws.data.closed(code),
    },
  });

  const port = server.port as number;
  return {
    url: `ws://${formatHostPort(config.ip, port)}`,
    port,
    sessions,
    async shutdown(graceMs = 5000) {
      if (!accepting) return;
      accepting = false;
      void server.stop(false);
      for (const session of sessions) {
        if (session.phase === "proxying") session.freeze();
        else session.close(CloseCode.goingAway, CloseReason.shuttingDown);
      }
      await waitUntil(
        () => [...sessions].every((s) => s.pendingToTarget === 0 && s.bufferedToClient === 0),
        graceMs,
      );
      for (const session of sessions) session.close(CloseCode.goingAway, CloseReason.shuttingDown);
      await waitUntil(() => sessions.size === 0, 1000);
      void server.stop(true);
    },
  };
}

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done() && performance.now() < deadline) await Bun.sleep(20);
}
