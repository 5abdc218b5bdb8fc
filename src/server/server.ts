import type { Server, ServerWebSocket } from "bun";
import type { PrincipalAccess } from "../admission/principal-access.ts";
import { Refusal } from "../admission/refusal.ts";
import { textResponse } from "../admission/responses.ts";
import type { Served } from "../front-ends/front-end.ts";
import { formatHostPort } from "../net/host-port.ts";
import { CloseReason } from "../protocol/constants.ts";
import type { Session } from "../session/session.ts";
import type { Counts } from "../state/counts.ts";
import type { ServerConfig } from "./config.ts";
import { buildDoor, type ServerDeps } from "./door.ts";
import { guarded } from "./guard.ts";
import { createLifecycle, type Lifecycle } from "./lifecycle.ts";
import { createLingerCount } from "./lingering.ts";
import { routeRequest } from "./routes.ts";
import type { SessionTable } from "./sessions/table.ts";
import type { TlsMaterial } from "./tls.ts";
import { type Connection, createUpgrade } from "./upgrade.ts";

export { DEFAULT_FLOW, type ServerDeps } from "./door.ts";

export interface ProxyServer extends Lifecycle {
  readonly url: string;
  readonly port: number;
  readonly sessions: ReadonlySet<Session>;
  /** The sessions API's view of this process (with --admin-token-file). */
  readonly table: SessionTable | undefined;
  /** The access rules in force (`--access`); a reload replaces them. */
  readonly access: PrincipalAccess;
  /** Counts an access file reload that failed (the metric). */
  accessReloadFailed(): void;
}

/** The Bun.serve wiring: HTTP routes, upgrades through the front door, and one WebSocket handler. */
export function startServer(config: ServerConfig, deps: ServerDeps): ProxyServer {
  const door = buildDoor(config, deps);
  const { logger, metrics } = door;
  /**
   * Refused WebSockets whose sockets Bun may still hold. Their number is bounded like the sessions'
   * (past it, upgrades are refused over HTTP, which costs no lingering socket), so a flood of
   * refused upgrades cannot run the process out of descriptors.
   */
  const lingering = createLingerCount();
  const served = new Set<Served>();

  const upgrade = createUpgrade(config, door, lingering);

  const open = (ws: ServerWebSocket<Connection>) => {
    const { state, frontEnd } = ws.data;
    if (state.kind === "accepted" && !door.accepting) {
      state.plan.discard?.();
      state.entrant.slot.release();
      ws.data.state = {
        kind: "refused",
        refusal: new Refusal("shutdown", CloseReason.shuttingDown),
      };
    }
    const current = ws.data.state;
    if (current.kind === "refused") {
      metrics?.refused(current.refusal.row.metric, frontEnd);
      lingering.add();
      ws.data.state = { kind: "closed" };
      ws.close(current.refusal.closeCode, current.refusal.closeReason);
      return;
    }
    if (current.kind !== "accepted") return;
    const handlers = current.plan.start(ws, ws.data.id);
    served.add(handlers);
    ws.data.state = { kind: "served", served: handlers };
  };

  const servedBy = (ws: ServerWebSocket<Connection>): Served | undefined =>
    ws.data.state.kind === "served" ? ws.data.state.served : undefined;

  const listen = (tls: TlsMaterial | undefined, port: number): Server<Connection> =>
    Bun.serve<Connection>({
      hostname: config.ip,
      port,
      // With TLS a certificate reload hands the port to a new listener (see reloadTls); with
      // workers the processes share it. It also lets another process of the same user bind this
      // port, which is why it is off otherwise: there a second instance gets EADDRINUSE.
      reusePort: tls !== undefined || config.workers > 1,
      ...(tls ? { tls: tlsOptions(tls) } : {}),
      // Never Bun's development error page (it shows source paths and code), in any build.
      development: false,
      error(error) {
        logger.error("internal error while answering an HTTP request:", error);
        return textResponse("500 Internal Server Error", 500);
      },
      fetch(request, server) {
        return routeRequest(request, {
          logger,
          ready: () => door.accepting,
          limits: deps.counts ? () => (deps.counts as Counts).mode : undefined,
          sessions: () => door.sessions.size,
          // With only --metrics-listen, the proxy's port does not serve /metrics.
          metrics: config.metrics ? metrics : undefined,
          refused: (reason) => metrics?.refused(reason),
          page: deps.page,
          upgrade: () => upgrade(request, server),
        });
      },
      websocket: {
        maxPayloadLength: config.maxMessageSize,
        // Never let Bun drop a frame: the relay pauses the target well before this would matter.
        backpressureLimit: 0,
        closeOnBackpressureLimit: false,
        perMessageDeflate: false,
        idleTimeout: door.settings.clientTimeout,
        open: guarded(logger, open),
        message: guarded(logger, (ws: ServerWebSocket<Connection>, message: string | Buffer) =>
          servedBy(ws)?.message(message),
        ),
        pong: guarded(logger, (ws: ServerWebSocket<Connection>) => servedBy(ws)?.pong()),
        drain: guarded(logger, (ws: ServerWebSocket<Connection>) => servedBy(ws)?.drain()),
        close: guarded(logger, (ws: ServerWebSocket<Connection>, code: number, reason: string) => {
          const handlers = servedBy(ws);
          ws.data.state = { kind: "closed" };
          if (!handlers) return;
          served.delete(handlers);
          handlers.closed(code, reason);
        }),
      },
    });

  const first = listen(deps.tls, config.port);
  const port = first.port as number;
  const lifecycle = createLifecycle(
    door,
    {
      closeAll: (code, reason) => {
        for (const handlers of served) handlers.close(code, reason);
      },
      get size() {
        return served.size;
      },
    },
    first,
    (tls) => listen(tls, port),
    deps.tls !== undefined,
  );
  return {
    url: `${deps.tls ? "wss" : "ws"}://${formatHostPort(config.ip, port)}`,
    port,
    sessions: door.sessions,
    table: door.table,
    access: door.access,
    accessReloadFailed: () => metrics?.accessReloadFailed(),
    ...lifecycle,
  };
}

/** Bun.serve's TLS: with `--client-ca`, the handshake itself refuses a client without a good certificate. */
function tlsOptions({ cert, key, ca }: TlsMaterial) {
  if (ca === undefined) return { cert, key };
  return { cert, key, ca, requestCert: true, rejectUnauthorized: true };
}
