import type { Server, ServerWebSocket } from "bun";
import { builtinAdapters } from "../adapters/index.ts";
import { createRegistry } from "../adapters/registry.ts";
import type { AnyProtocolAdapter } from "../adapters/types.ts";
import { type CredentialCheck, createCredentialCheck } from "../auth/credentials.ts";
import { createOriginCheck, type OriginCheck } from "../auth/origin.ts";
import { createConnectionCounter, ipKey, type Release } from "../limits/per-ip.ts";
import { createRateLimiter } from "../limits/rate-limit.ts";
import type { Logger } from "../log/logger.ts";
import type { MetricsFactory } from "../metrics/metrics.ts";
import { type ClientAddressResolver, createClientAddressResolver } from "../net/client-address.ts";
import { formatHostPort } from "../net/host-port.ts";
import { createPolicy, type Policy } from "../policy/policy.ts";
import type { Resolver } from "../policy/resolver.ts";
import { CloseCode, CloseReason } from "../protocol/constants.ts";
import type { FlowLimits } from "../relay/relay.ts";
import { Session, type SessionContext } from "../session/session.ts";
import { VERSION } from "../version.ts";
import { admit } from "./admission.ts";
import type { ServerConfig } from "./config.ts";
import { guarded } from "./guard.ts";
import { notAnUpgrade, routeRequest } from "./routes.ts";
import type { TlsMaterial } from "./tls.ts";

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

export function startServer(config: ServerConfig, deps: ServerDeps): ProxyServer {
  const sessions = new Set<Session>();
  const metrics = deps.createMetrics?.(() => sessions);
  const slots = new Map<Session, Release>();
  let accepting = true;
  const credentials = deps.credentials ?? createCredentialCheck({});
  const context: SessionContext = {
    config,
    logger: deps.logger,
    registry: createRegistry(deps.adapters ?? builtinAdapters, `socket2web/${VERSION}`),
    flow: deps.flow ?? DEFAULT_FLOW,
    policy: deps.policy ?? createPolicy({ allow: [], deny: [] }),
    resolver: deps.resolver,
    credentials,
    onClosed: (session) => {
      if (session.counted) metrics?.sessionFinished(session.finished);
      sessions.delete(session);
      slots.get(session)?.();
      slots.delete(session);
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
  /** Why a connection the upgrade admitted is closed at once, per session. */
  const refusals = new WeakMap<Session, string>();
  const keys = new WeakMap<Session, string>();

  const open = (ws: ServerWebSocket<Session>) => {
    const session = ws.data;
    const refusal = refusals.get(session);
    if (!accepting) {
      metrics?.refused("shutdown");
      session.refuse(ws, CloseCode.goingAway, CloseReason.shuttingDown);
      return;
    }
    if (sessions.size >= config.maxConnections) {
      metrics?.refused("capacity");
      session.refuse(ws, CloseCode.tryAgainLater, CloseReason.atCapacity);
      return;
    }
    if (refusal !== undefined) {
      metrics?.refused("rate_limit");
      session.refuse(ws, CloseCode.tryAgainLater, refusal);
      return;
    }
    if (perIp) {
      const release = perIp.tryAcquire(keys.get(session) ?? "");
      if (release === null) {
        deps.logger.debug(`per-IP limit reached for ${session.clientAddress}`);
        metrics?.refused("per_ip");
        session.refuse(ws, CloseCode.tryAgainLater, CloseReason.perIpLimit);
        return;
      }
      slots.set(session, release);
    }
    session.counted = true;
    sessions.add(session);
    session.start(ws);
  };

  const listen = (tls: TlsMaterial | undefined, port: number): Server<Session> =>
    Bun.serve<Session>({
      hostname: config.ip,
      port,
      // With TLS a certificate reload hands the port to a new listener (see reloadTls); with
      // workers the processes share it. It also lets another process of the same user bind this
      // port, which is why it is off otherwise: there a second instance gets EADDRINUSE.
      reusePort: tls !== undefined || config.workers > 1,
      ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
      fetch(request, server) {
        return routeRequest(request, {
          ready: () => accepting,
          sessions: () => sessions.size,
          metrics,
          async upgrade() {
            const admitted = await admit(request, server.requestIP(request), admission);
            if (admitted instanceof Response) {
              metrics?.refused(admitted.status === 403 ? "origin" : "credential");
              return admitted;
            }
            const session = new Session(context, admitted.clientLabel, admitted.grant);
            if (perIp) keys.set(session, ipKey(admitted.clientAddress));
            if (admitted.refusal !== undefined) refusals.set(session, admitted.refusal);
            return server.upgrade(request, { data: session }) ? undefined : notAnUpgrade();
          },
        });
      },
      websocket: {
        maxPayloadLength: config.maxMessageSize,
        // Never let Bun drop a frame: the relay pauses the target well before this would matter.
        backpressureLimit: 0,
        closeOnBackpressureLimit: false,
        perMessageDeflate: false,
        open: guarded(deps.logger, open),
        message: guarded(deps.logger, (ws: ServerWebSocket<Session>, message: string | Buffer) =>
          ws.data.message(message),
        ),
        drain: guarded(deps.logger, (ws: ServerWebSocket<Session>) => ws.data.drain()),
        close: guarded(deps.logger, (ws: ServerWebSocket<Session>, code: number) =>
          ws.data.closed(code),
        ),
      },
    });

  let current = listen(deps.tls, config.port);
  const port = current.port as number;
  /** Listeners replaced by a reload: no longer listening, but their WebSockets are live. */
  const retired: Server<Session>[] = [];
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
      for (const server of [current, ...retired]) void server.stop(true);
    },
  };
}

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done() && performance.now() < deadline) await Bun.sleep(20);
}
