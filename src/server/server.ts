import type { Server, ServerWebSocket } from "bun";
import { builtinAdapters } from "../adapters/index.ts";
import { createRegistry } from "../adapters/registry.ts";
import type { AnyProtocolAdapter } from "../adapters/types.ts";
import type { Grant } from "../auth/credentials.ts";
import { type CredentialCheck, createCredentialCheck } from "../auth/credentials.ts";
import { createOriginCheck, type OriginCheck } from "../auth/origin.ts";
import type { CaptureEndpoint } from "../capture/session-capture.ts";
import { createCapture } from "../capture/sink.ts";
import { tapOpener } from "../capture/tap.ts";
import type { OpenedTarget } from "../fixed-target/opened-target.ts";
import { prepareRawSession } from "../fixed-target/raw-session.ts";
import { chooseSubprotocol } from "../fixed-target/subprotocol.ts";
import { type FixedTargets, type UpgradeKind, upgradeKind } from "../fixed-target/upgrade-kind.ts";
import { urlFormChooser } from "../fixed-target/url-form.ts";
import { createConnectionCounter, ipKey, type Release } from "../limits/per-ip.ts";
import { createRateLimiter } from "../limits/rate-limit.ts";
import { fields, type Logger } from "../log/logger.ts";
import type { MetricsFactory } from "../metrics/metrics.ts";
import { type ClientAddressResolver, createClientAddressResolver } from "../net/client-address.ts";
import { formatHostPort } from "../net/host-port.ts";
import type { Resolver } from "../net/resolver.ts";
import { createPolicy, type Policy } from "../policy/policy.ts";
import { parseRule } from "../policy/rule.ts";
import { CloseCode, CloseReason } from "../protocol/constants.ts";
import type { FlowLimits } from "../relay/relay.ts";
import { handshakeChooser, type TargetChooser } from "../session/selection.ts";
import { Session, type SessionContext } from "../session/session.ts";
import { protocolStatus, silentStatus } from "../session/status.ts";
import { VERSION } from "../version.ts";
import type { StreamSessionRequest, WispConnection } from "../wisp/connection.ts";
import { planWispUpgrade, startWispConnection, type WispUpgrade } from "../wisp/serve.ts";
import { type Admitted, admit, type Refusal } from "./admission.ts";
import type { ServerConfig } from "./config.ts";
import { guarded } from "./guard.ts";
import { createIdleCollector, IDLE_COLLECT } from "./idle-collect.ts";
import { CLOSE_LINGER_MS, createLingerCount } from "./lingering.ts";
import { textResponse } from "./responses.ts";
import { notAnUpgrade, type PageRoute, routeRequest } from "./routes.ts";
import type { TlsMaterial } from "./tls.ts";
import { WebSocketClient } from "./websocket-client.ts";

/**
 * Per-connection backlog in each direction before the side that is ahead stops being read: large
 * enough to keep a 64 KiB-message stream moving at loopback speed, small enough that 10,000 busy
 * sessions stay within a few GiB at worst.
 */
export const DEFAULT_FLOW: FlowLimits = { highWater: 1024 * 1024, lowWater: 256 * 1024 };

/**
 * Distinct client addresses the rate limiter remembers; past it the least recently seen is
 * forgotten (and starts again with a full bucket), so a flood of sources cannot grow memory.
 */
const RATE_LIMIT_KEYS = 100_000;

/**
 * Seconds a client may stay silent (no message, no pong) before it is taken for dead: Bun pings
 * an idle WebSocket halfway through and drops it at the end; a paused one is checked the same way
 * by WebSocketClient. 120 is Bun's own default.
 */
const DEFAULT_CLIENT_TIMEOUT = 120;

/**
 * Bytes that checking paused clients may read into a session's queue over the connection's life:
 * room for what a client that died left in the network (its pong comes after everything it sent;
 * about 4.7 MiB measured on loopback after a flood), bounded so that checking a live client whose
 * target does not read cannot grow memory without end.
 */
const CHECK_READ_BUDGET = 8 * 1024 * 1024;

export interface ServerDeps {
  readonly logger: Logger;
  /** Resolves target host names; tests inject a fixed table so nothing leaves loopback. */
  readonly resolver: Resolver;
  /** Default: no rules, so only the built-in denied classes. */
  readonly policy?: Policy;
  /** Default: no credential required. */
  readonly credentials?: CredentialCheck;
  /** Default: any Origin, and none. */
  readonly origin?: OriginCheck;
  /** Default: the direct peer, X-Forwarded-For ignored. */
  readonly clientAddress?: ClientAddressResolver;
  /** Serves wss:// with these; replace them later with `reloadTls`. */
  readonly tls?: TlsMaterial;
  /** Given when metrics are served (--metrics); loaded lazily, so start-up does not pay for it. */
  readonly createMetrics?: MetricsFactory;
  readonly adapters?: readonly AnyProtocolAdapter[];
  readonly flow?: FlowLimits;
  /** Seconds of silence after which a client is dropped (default 120); tests shorten it. */
  readonly clientTimeout?: number;
  /** --route and --token-file: targets chosen by the upgrade URL (raw sessions). */
  readonly fixedTargets?: FixedTargets;
  /** Pages served beside the proxy (--console): a response, or undefined for other requests. */
  readonly page?: PageRoute;
  /** A full garbage collection, run once the server falls quiet after a burst (default Bun.gc). */
  readonly collectGarbage?: () => void;
}

export interface ProxyServer {
  readonly url: string;
  readonly port: number;
  readonly sessions: ReadonlySet<Session>;
  /**
   * Serves new connections with a new certificate; open sessions keep theirs. Bun's
   * `server.reload` keeps the old certificate, so a new listener takes over the port
   * (SO_REUSEPORT) and the old one stops listening while its WebSockets carry on.
   */
  reloadTls(tls: TlsMaterial): void;
  /** Stops accepting, lets sessions flush for at most `graceMs`, then closes them all with 1001. */
  shutdown(graceMs?: number): Promise<void>;
}

/** A connection's `ws.data`: what admission decided, then its session once it counts. */
export interface ConnectionData {
  readonly id: number;
  readonly admitted: Admitted;
  /** Set in `open` when the connection counts; refusals never get one. */
  session: Session | undefined;
  client: WebSocketClient | undefined;
  /** Frees its --max-connections-per-ip slot. */
  release: Release | undefined;
  /** How its session chooses a target, decided from the upgrade URL; absent: refused at open. */
  readonly plan: SessionPlan | undefined;
  /** An upgrade under --wisp that is a Wisp connection (not a session of its own). */
  readonly wisp?: Extract<WispUpgrade, { kind: "wisp" }>;
  /** The Wisp side of such a connection once it counts. */
  wispConnection?: WispConnection;
  /** The direct peer's address and port, as the socket saw them. */
  readonly peer: { readonly address: string; readonly port: number } | null;
}

/** What the upgrade decided about a session's target, before the session exists. */
interface SessionPlan {
  readonly chooser: TargetChooser;
  /** Raw sessions get no status messages. */
  readonly silent: boolean;
  readonly grant: Grant | undefined;
  /** A raw session's target, opened before the upgrade; closed if no session takes it. */
  readonly opened: OpenedTarget | undefined;
}

let nextConnectionId = 1;

const RAW_STATUS_TEXT = {
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  502: "Bad Gateway",
  504: "Gateway Timeout",
} as const;

const SHUTTING_DOWN: Refusal = {
  reason: "shutdown",
  closeCode: CloseCode.goingAway,
  closeReason: CloseReason.shuttingDown,
};
const AT_CAPACITY: Refusal = {
  reason: "capacity",
  closeCode: CloseCode.tryAgainLater,
  closeReason: CloseReason.atCapacity,
};
/** How long a shutdown waits for capture files to take their last packets (within its deadline). */
const CAPTURE_SETTLE_MS = 1000;

const PER_IP_LIMIT: Refusal = {
  reason: "per_ip",
  closeCode: CloseCode.tryAgainLater,
  closeReason: CloseReason.perIpLimit,
};

export function startServer(config: ServerConfig, deps: ServerDeps): ProxyServer {
  const sessions = new Set<Session>();
  let accepting = true;
  /** WebSockets that count towards --max-connections (a Wisp connection's streams do not). */
  let counted = 0;
  const wispConnections = new Set<WispConnection>();
  /**
   * Refused WebSockets whose sockets Bun may still hold. Their number is bounded like the sessions'
   * (past it, upgrades are refused over HTTP, which costs no lingering socket), so a flood of
   * refused upgrades cannot run the process out of descriptors.
   */
  const lingering = createLingerCount();
  const credentials = deps.credentials ?? createCredentialCheck({});
  const registry = createRegistry(deps.adapters ?? builtinAdapters, `socket2web/${VERSION}`);
  const metrics = deps.createMetrics?.(() => sessions, { protocols: registry.names() });
  const chooser = handshakeChooser(registry);
  const fixedTargets: FixedTargets = deps.fixedTargets ?? {
    routes: new Map(),
    tokens: undefined,
    tickets: false,
  };
  const tcp = registry.get("tcp");
  /** Wisp's stream types are the tcp and (where it is registered) udp adapters. */
  const wispAdapters = (() => {
    const udp = registry.get("udp");
    return tcp ? { tcp, ...(udp ? { udp } : {}) } : undefined;
  })();
  /** Raw sessions whose target is being opened before the upgrade: they count towards capacity. */
  let preparing = 0;
  const clientTimeout = deps.clientTimeout ?? DEFAULT_CLIENT_TIMEOUT;
  const flow = deps.flow ?? DEFAULT_FLOW;
  const capture = config.capture
    ? createCapture(
        {
          dir: config.capture,
          maxBytes: config.captureMaxBytes,
          filter: config.captureFilter.map(parseRule),
          maxTotal: config.captureMaxTotal,
          // Only a worker of several runs a server with workers above 1.
          workers: Math.max(1, config.workers),
        },
        deps.logger,
        metrics,
      )
    : undefined;
  const idleCollector = createIdleCollector({
    ...IDLE_COLLECT,
    collect: deps.collectGarbage ?? (() => Bun.gc(true)),
  });
  const context: SessionContext = {
    settings: {
      handshakeTimeout: config.timeout,
      maxLifetime: config.maxLifetime,
      connectTimeout: config.connectTimeout,
      idleTimeout: config.idleTimeout,
    },
    logger: deps.logger,
    metrics,
    flow,
    policy: deps.policy ?? createPolicy({ allow: [], deny: [] }),
    resolver: deps.resolver,
    credentials,
    onClosed: (session) => {
      metrics?.sessionFinished(session.finished);
      sessions.delete(session);
      idleCollector.ended();
    },
  };
  const perIp =
    config.maxConnectionsPerIp > 0
      ? createConnectionCounter(config.maxConnectionsPerIp)
      : undefined;
  const admission = {
    origin: deps.origin ?? createOriginCheck({ allow: [], require: false }),
    credentials,
    clientAddress: deps.clientAddress ?? createClientAddressResolver([]),
    rateLimiter:
      config.rateLimit > 0
        ? createRateLimiter({
            capacity: config.rateLimitBurst || config.rateLimit,
            refillPerSecond: config.rateLimit,
            maxKeys: RATE_LIMIT_KEYS,
          })
        : undefined,
    keyOf: ipKey,
    logger: deps.logger,
  };

  /** Why a connection the upgrade let through must close at once, decided here or at admission. */
  const refusalOf = (data: ConnectionData): Refusal | undefined => {
    if (!accepting) return SHUTTING_DOWN;
    if (counted >= config.maxConnections) return AT_CAPACITY;
    if (data.admitted.refusal) return data.admitted.refusal;
    // A raw upgrade that was not prepared because it was to be refused (a race freed the room).
    if (!data.plan && !data.wisp) return AT_CAPACITY;
    if (perIp) {
      data.release = perIp.tryAcquire(ipKey(data.admitted.clientAddress)) ?? undefined;
      if (!data.release) {
        deps.logger.debug(
          `per-IP limit reached for ${data.admitted.clientLabel}`,
          fields({ client: data.admitted.clientLabel, reason: "per_ip" }),
        );
        return PER_IP_LIMIT;
      }
    }
    return undefined;
  };

  /**
   * A raw session's target, checked and opened before the upgrade: its plan, or the HTTP refusal.
   * Undefined when the upgrade is to be refused at open anyway (1013, 1001): it opens nothing.
   */
  const planRawSession = async (
    kind: Extract<UpgradeKind, { kind: "raw" }>,
    admitted: Admitted,
    waitLonger: () => void,
  ): Promise<SessionPlan | Response | undefined> => {
    const room = accepting && counted + preparing < config.maxConnections;
    if (admitted.refusal || !room || !tcp) return undefined;
    // Opening the target may take --connect-timeout; Bun's HTTP idle timer must wait.
    waitLonger();
    preparing++;
    let prepared: Awaited<ReturnType<typeof prepareRawSession>>;
    try {
      prepared = await prepareRawSession(kind, admitted.grant, {
        targets: fixedTargets,
        credentials,
        policy: context.policy,
        resolver: deps.resolver,
        tcp,
        connectTimeout: config.connectTimeout,
      });
    } finally {
      preparing--;
    }
    if (!prepared.ok) {
      metrics?.refused(prepared.reason);
      deps.logger.info(
        `refused raw upgrade from ${admitted.clientLabel} (${prepared.status}): ${prepared.log}`,
      );
      return textResponse(
        `${prepared.status} ${RAW_STATUS_TEXT[prepared.status]}: ${prepared.message}`,
        prepared.status,
        prepared.status === 401 ? { "www-authenticate": 'Bearer realm="socket2web"' } : {},
      );
    }
    return {
      chooser: { kind: "fixed", selection: prepared.selection },
      silent: true,
      grant: prepared.grant,
      opened: prepared.opened,
    };
  };

  const open = (ws: ServerWebSocket<ConnectionData>) => {
    const data = ws.data;
    const refusal = refusalOf(data);
    if (refusal) {
      data.plan?.opened?.discard();
      metrics?.refused(refusal.reason);
      lingering.add();
      ws.close(refusal.closeCode, refusal.closeReason);
      return;
    }
    counted++;
    if (data.wisp && wispAdapters) {
      const connection = startWispConnection(
        ws,
        data.wisp,
        `wisp ${data.id} ${data.admitted.clientLabel}`,
        wispDeps(data, wispAdapters),
      );
      data.wispConnection = connection;
      wispConnections.add(connection);
      return;
    }
    const plan = data.plan as SessionPlan;
    const client = new WebSocketClient(ws, (clientTimeout * 1000) / 2, CHECK_READ_BUDGET);
    const session = new Session(context, {
      id: data.id,
      client,
      chooser: plan.chooser,
      status: plan.silent ? silentStatus : protocolStatus(client),
      clientAddress: data.admitted.clientLabel,
      grant: plan.grant,
      capture: capture && tapOpener(capture, data.id, captureClient(data)),
    });
    data.client = client;
    data.session = session;
    sessions.add(session);
    idleCollector.started();
    session.start();
  };

  /** A Wisp stream is a session whose client side is the stream; it has no clock of its own. */
  const streamContext: SessionContext = {
    ...context,
    settings: { ...context.settings, maxLifetime: 0 },
  };
  const wispDeps = (data: ConnectionData, adapters: NonNullable<typeof wispAdapters>) => ({
    adapters,
    maxStreams: config.wispMaxStreams,
    logger: deps.logger,
    maxLifetime: config.maxLifetime,
    idleTimeout: config.idleTimeout,
    session: (request: StreamSessionRequest) => {
      const session = new Session(streamContext, {
        id: nextConnectionId++,
        client: request.client,
        chooser: { kind: "fixed", selection: request.selection },
        status: request.status,
        // One log line per stream, tagged with its connection.
        clientAddress: `${data.admitted.clientLabel} wisp ${data.id} stream ${request.streamId}`,
        grant: request.grant,
      });
      sessions.add(session);
      idleCollector.started();
      return session;
    },
    // Each stream takes a token from the client address's rate limit, as a handshake does.
    admitStream: () => {
      const rate = admission.rateLimiter?.take(ipKey(data.admitted.clientAddress));
      return rate && !rate.allowed ? "rate limit" : undefined;
    },
  });

  const close = (ws: ServerWebSocket<ConnectionData>, code: number, reason: string) => {
    const data = ws.data;
    if (data.client || data.wispConnection) counted--;
    if (data.wispConnection) {
      wispConnections.delete(data.wispConnection);
      data.wispConnection.closed(code);
    }
    data.release?.();
    data.release = undefined;
    data.client?.dispose();
    data.session?.clientClosed(code, reason);
  };

  /**
   * An upgrade under --wisp: a Wisp connection, or wsproxy (a raw session to the target its URL
   * names, checked by the session like any other). Admission first, as for every upgrade.
   */
  const upgradeWisp = async (
    request: Request,
    pathname: string,
    server: Server<ConnectionData>,
    tcpAdapter: NonNullable<typeof tcp>,
  ): Promise<Response | undefined> => {
    const admitted = await admit(request, server.requestIP(request), admission);
    if (admitted.kind === "rejected") {
      metrics?.refused(admitted.reason);
      return admitted.response;
    }
    const wisp = await planWispUpgrade(request, pathname, admitted.grant, {
      prefix: config.wisp as string,
      credentials,
      tcp: tcpAdapter,
      logger: deps.logger,
    });
    if (wisp === undefined) return notAnUpgrade();
    if (wisp.kind === "refused") {
      if (wisp.status === 400) return textResponse(`400 Bad Request: ${wisp.message}`, 400);
      metrics?.refused("credential");
      return textResponse(`401 Unauthorized: ${wisp.message}`, 401, {
        "www-authenticate": 'Bearer realm="socket2web"',
      });
    }
    const data: ConnectionData = {
      id: nextConnectionId++,
      admitted,
      session: undefined,
      client: undefined,
      release: undefined,
      peer: server.requestIP(request),
      plan:
        wisp.kind === "wsproxy"
          ? {
              chooser: { kind: "fixed", selection: wisp.selection },
              silent: true,
              grant: wisp.grant,
              opened: undefined,
            }
          : undefined,
      ...(wisp.kind === "wisp" ? { wisp } : {}),
    };
    const subprotocol = wisp.kind === "wisp" ? wisp.subprotocol : undefined;
    const headers = subprotocol ? { "sec-websocket-protocol": subprotocol } : undefined;
    return server.upgrade(request, { data, ...(headers ? { headers } : {}) })
      ? undefined
      : notAnUpgrade();
  };

  const listen = (tls: TlsMaterial | undefined, port: number): Server<ConnectionData> =>
    Bun.serve<ConnectionData>({
      hostname: config.ip,
      port,
      // With TLS a certificate reload hands the port to a new listener (see reloadTls); with
      // workers the processes share it. It also lets another process of the same user bind this
      // port, which is why it is off otherwise: there a second instance gets EADDRINUSE.
      reusePort: tls !== undefined || config.workers > 1,
      ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
      // Never Bun's development error page (it shows source paths and code), in any build.
      development: false,
      error(error) {
        deps.logger.error("internal error while answering an HTTP request:", error);
        return textResponse("500 Internal Server Error", 500);
      },
      fetch(request, server) {
        return routeRequest(request, {
          logger: deps.logger,
          ready: () => accepting,
          sessions: () => sessions.size,
          // With only --metrics-listen, the proxy's port does not serve /metrics.
          metrics: config.metrics ? metrics : undefined,
          refused: (reason) => metrics?.refused(reason),
          page: deps.page,
          async upgrade() {
            // Refused before the upgrade, so that refusing costs no lingering socket.
            if (lingering.count() >= config.maxConnections) {
              metrics?.refused("capacity");
              deps.logger.debug("refused an upgrade: too many refused connections still closing");
              return textResponse(
                "503 Service Unavailable: server at capacity, try again later",
                503,
                {
                  connection: "close",
                  "retry-after": String(CLOSE_LINGER_MS / 1000),
                },
              );
            }
            const url = new URL(request.url);
            if (config.wisp && wispAdapters && url.pathname.startsWith(config.wisp)) {
              return upgradeWisp(request, url.pathname, server, wispAdapters.tcp);
            }
            const kind = upgradeKind(url, fixedTargets);
            const subprotocol = chooseSubprotocol(
              request.headers.get("sec-websocket-protocol"),
              kind.kind === "raw",
            );
            if (!subprotocol.ok) {
              deps.logger.debug(`refused an upgrade: ${subprotocol.message}`);
              metrics?.refused("bad_request");
              return textResponse(`400 Bad Request: ${subprotocol.message}`, 400);
            }
            const admitted = await admit(request, server.requestIP(request), admission);
            if (admitted.kind === "rejected") {
              metrics?.refused(admitted.reason);
              return admitted.response;
            }
            const plan =
              kind.kind === "raw"
                ? await planRawSession(kind, admitted, () => server.timeout(request, 0))
                : {
                    chooser: kind.kind === "url" ? urlFormChooser(kind.query, registry) : chooser,
                    silent: false,
                    grant: admitted.grant,
                    opened: undefined,
                  };
            if (plan instanceof Response) return plan;
            const data: ConnectionData = {
              id: nextConnectionId++,
              admitted,
              session: undefined,
              client: undefined,
              release: undefined,
              plan,
              peer: server.requestIP(request),
            };
            const headers = subprotocol.selected
              ? { "sec-websocket-protocol": subprotocol.selected }
              : undefined;
            let upgraded = false;
            try {
              upgraded = server.upgrade(request, { data, ...(headers ? { headers } : {}) });
            } finally {
              // A target opened for a client that is gone (or was never a valid upgrade).
              if (!upgraded) plan?.opened?.discard();
            }
            if (upgraded) return undefined;
            metrics?.refused("bad_request");
            return notAnUpgrade();
          },
        });
      },
      websocket: {
        maxPayloadLength: config.maxMessageSize,
        // Never let Bun drop a frame: the relay pauses the target well before this would matter.
        backpressureLimit: 0,
        closeOnBackpressureLimit: false,
        perMessageDeflate: false,
        idleTimeout: clientTimeout,
        open: guarded(deps.logger, open),
        message: guarded(
          deps.logger,
          (ws: ServerWebSocket<ConnectionData>, message: string | Buffer) => {
            ws.data.client?.received(message.length);
            ws.data.session?.message(message);
            ws.data.wispConnection?.message(message);
          },
        ),
        pong: guarded(deps.logger, (ws: ServerWebSocket<ConnectionData>) =>
          ws.data.client?.ponged(),
        ),
        drain: guarded(deps.logger, (ws: ServerWebSocket<ConnectionData>) => {
          ws.data.session?.clientDrained();
          ws.data.wispConnection?.drain();
        }),
        close: guarded(deps.logger, close),
      },
    });

  let current = listen(deps.tls, config.port);
  const port = current.port as number;
  /** Listeners replaced by a reload: no longer listening, but their WebSockets are live. */
  const retired: Server<ConnectionData>[] = [];
  const scheme = deps.tls ? "wss" : "ws";

  return {
    url: `${scheme}://${formatHostPort(config.ip, port)}`,
    port,
    sessions,
    reloadTls(tls) {
      if (!deps.tls) throw new Error("reloadTls: this server was started without TLS");
      if (!accepting) return;
      const next = listen(tls, port);
      const previous = current;
      current = next;
      retired.push(previous);
      // Resolves once the last of its WebSockets has closed.
      void previous.stop(false).then(() => retired.splice(retired.indexOf(previous), 1));
    },
    async shutdown(graceMs = 5000) {
      if (!accepting) return;
      accepting = false;
      void current.stop(false);
      for (const session of sessions) session.shutdown();
      await waitUntil(
        () => [...sessions].every((s) => s.pendingToTarget === 0 && s.bufferedToClient === 0),
        graceMs,
      );
      for (const session of sessions) session.close(CloseCode.goingAway, CloseReason.shuttingDown);
      for (const connection of wispConnections) {
        connection.close(CloseCode.goingAway, CloseReason.shuttingDown);
      }
      await waitUntil(() => sessions.size === 0 && wispConnections.size === 0, 1000);
      // Capture files take their last packets in the background: give them a moment to land.
      if (capture) await Promise.race([capture.settled(), Bun.sleep(CAPTURE_SETTLE_MS)]);
      idleCollector.stop();
      for (const server of [current, ...retired]) void server.stop(true);
    },
  };
}

/** The client side of a session's capture: its address, and its port where it is the direct peer. */
function captureClient(data: ConnectionData): CaptureEndpoint {
  const { clientAddress, clientLabel } = data.admitted;
  // The label carries the port exactly when the address is the socket's own peer (no X-Forwarded-For).
  const port = clientLabel !== clientAddress ? (data.peer?.port ?? 0) : 0;
  return { address: clientAddress, port };
}

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done() && performance.now() < deadline) await Bun.sleep(20);
}
