import { builtinAdapters } from "../adapters/index.ts";
import { createRegistry } from "../adapters/registry.ts";
import type { AnyProtocolAdapter } from "../adapters/types.ts";
import { createAdmission } from "../admission/admission.ts";
import { createPrincipalAccess, type PrincipalAccess } from "../admission/principal-access.ts";
import { principalBandwidth } from "../admission/principal-bandwidth.ts";
import { createSlots } from "../admission/slots.ts";
import type { AccessRules } from "../auth/access-rules.ts";
import { type CredentialCheck, createCredentialCheck } from "../auth/credentials.ts";
import type { IdentityHeader } from "../auth/identity-header.ts";
import { createOriginCheck, type OriginCheck } from "../auth/origin.ts";
import { captureHooks } from "../capture/hooks.ts";
import { type Capture, createCapture } from "../capture/sink.ts";
import type { AnyFrontEnd, FrontDoor, WispTuning } from "../front-ends/front-end.ts";
import type { FixedTargets } from "../front-ends/raw/fixed-targets.ts";
import { rawFrontEnd } from "../front-ends/raw/raw.ts";
import { socket2web } from "../front-ends/socket2web/socket2web.ts";
import { wisp } from "../front-ends/wisp.ts";
import { Bandwidth } from "../limits/bandwidth.ts";
import type { Logger } from "../log/logger.ts";
import { logSessionSummary } from "../log/session-summary.ts";
import { OTHER } from "../metrics/labels.ts";
import type { MetricsFactory, ProxyMetrics } from "../metrics/metrics.ts";
import { type ClientAddressResolver, createClientAddressResolver } from "../net/client-address.ts";
import { versionOf } from "../net/proxy-protocol.ts";
import type { Resolver } from "../net/resolver.ts";
import { createPolicy, type Policy } from "../policy/policy.ts";
import { parseRule } from "../policy/rule.ts";
import type { FlowLimits } from "../relay/types.ts";
import type { SessionHooks } from "../session/hooks.ts";
import { type BandwidthFor, Session, type SessionContext } from "../session/session.ts";
import { addressLimits } from "../state/address-limits.ts";
import { type Counts, localCounts } from "../state/counts.ts";
import { createRevocations, type Revocations } from "../state/revocations.ts";
import { VERSION } from "../version.ts";
import type { ServerConfig } from "./config.ts";
import { createIdleCollector, IDLE_COLLECT, type IdleCollector } from "./idle-collect.ts";
import type { PageRoute } from "./routes.ts";
import { createSessionTable, type SessionTable } from "./sessions/table.ts";
import type { TlsMaterial } from "./tls.ts";

/**
 * Per-connection backlog in each direction before the side that is ahead stops being read: large
 * enough to keep a 64 KiB-message stream moving at loopback speed, small enough that 10,000 busy
 * sessions stay within a few GiB at worst.
 */
export const DEFAULT_FLOW: FlowLimits = { highWater: 1024 * 1024, lowWater: 256 * 1024 };

/**
 * Seconds a client may stay silent (no message, no pong) before it is taken for dead: Bun pings
 * an idle WebSocket halfway through and drops it at the end; a paused one is checked the same way
 * by WebSocketClient. 120 is Bun's own default.
 */
const DEFAULT_CLIENT_TIMEOUT = 120;

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
  /**
   * Where the address and principal limits count: shared by the fleet (`--state`); default: in
   * process.
   */
  readonly counts?: Counts;
  /** Principals an operator refused until a time; default: this process's own. */
  readonly revocations?: Revocations;
  /** Wisp's credit and INFO wait (tests shorten them), and a set that holds the live connections. */
  readonly wispTuning?: WispTuning;
  /** This process's number among the workers (it prefixes session ids); undefined: no workers. */
  readonly worker?: string | undefined;
  /**
   * The bandwidth limits of each session, asked once it starts proxying (its principal is known
   * then): a principal's shared `Bandwidth` in the lists of all its sessions, plus any of their own.
   * Default: no limits.
   */
  readonly bandwidthFor?: BandwidthFor;
  /** `--access`: rules per principal (replace them later with `door.access.replace`). */
  readonly accessRules?: AccessRules;
  /** `--identity-header`: the principal a trusted front proxy names. */
  readonly identity?: IdentityHeader;
}

/** Everything the server's wiring uses, built once from the configuration. */
export interface Door extends FrontDoor {
  /** Asked in order; the first to claim an upgrade serves it (socket2web claims the rest). */
  readonly frontEnds: readonly AnyFrontEnd[];
  /** Sessions until nothing of them is held: /healthz, metrics and shutdown see these. */
  readonly sessions: ReadonlySet<Session>;
  readonly metrics: ProxyMetrics | undefined;
  readonly capture: Capture | undefined;
  /** The sessions API's view of this process (with --admin-token-file). */
  readonly table: SessionTable | undefined;
  readonly idleCollector: IdleCollector;
  /** False once shutting down; admission refuses from then on. */
  readonly accepting: boolean;
  /** The access rules in force; a reload replaces them. */
  readonly access: PrincipalAccess;
  stopAccepting(): void;
}

let nextSessionId = 1;

export function buildDoor(config: ServerConfig, deps: ServerDeps): Door {
  const sessions = new Set<Session>();
  const registry = createRegistry(deps.adapters ?? builtinAdapters, `socket2web/${VERSION}`);
  const counts = deps.counts ?? localCounts();
  const addresses = addressLimits(counts, {
    rate: config.rateLimit,
    burst: config.rateLimitBurst,
    maxPerAddress: config.maxConnectionsPerIp,
  });
  const revocations = deps.revocations ?? createRevocations();
  const shared = deps.counts;
  const metrics = deps.createMetrics?.(() => sessions, {
    protocols: registry.names(),
    ...(shared ? { limitsMode: () => shared.mode } : {}),
    // Read at each use: a reload's names count from then on.
    principalLabel: (name) => (access.rules?.named.has(name) ? name : OTHER),
  });
  const table =
    config.adminTokenFile === undefined
      ? undefined
      : createSessionTable(sessions, deps.worker, revocations);
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
  const credentials = deps.credentials ?? createCredentialCheck({});
  const fixedTargets: FixedTargets = deps.fixedTargets ?? {
    routes: new Map(),
    tokens: undefined,
    tickets: false,
  };
  let accepting = true;
  const policy = deps.policy ?? createPolicy({ allow: [], deny: [] });
  const access = createPrincipalAccess(deps.accessRules, policy, {
    counts,
    revokedUntil: revocations.until,
  });
  const admission = createAdmission({
    access,
    identity: deps.identity,
    principalRefused: (principal, reason) => metrics?.principalRefused(principal, reason),
    origin: deps.origin ?? createOriginCheck({ allow: [], require: false }),
    credentials,
    clientAddress: deps.clientAddress ?? createClientAddressResolver([]),
    slots: createSlots({
      maxConnections: config.maxConnections,
      addresses,
    }),
    policy,
    resolver: deps.resolver,
    connectTimeout: config.connectTimeout,
    proxyProtocol: versionOf(config.proxyProtocol),
    accepting: () => accepting,
    logger: deps.logger,
  });
  const door: Door = {
    get accepting() {
      return accepting;
    },
    stopAccepting() {
      accepting = false;
    },
    access,
    frontEnds: [wisp, rawFrontEnd(fixedTargets), socket2web],
    sessions,
    metrics,
    capture,
    table,
    idleCollector,
    registry,
    logger: deps.logger,
    settings: {
      maxLifetime: config.maxLifetime,
      idleTimeout: config.idleTimeout,
      wisp: config.wisp,
      wispMaxStreams: config.wispMaxStreams,
      clientTimeout: deps.clientTimeout ?? DEFAULT_CLIENT_TIMEOUT,
      wispTuning: deps.wispTuning ?? {},
    },
    admission,
    sessionId: () => nextSessionId++,
    session: (request) => {
      const id = request.id ?? nextSessionId++;
      const { entrant } = request;
      const hooks: SessionHooks[] = request.hooks ? [...request.hooks] : [];
      if (capture) hooks.push(captureHooks(capture, id, entrant.client));
      if (table) hooks.push(table.hooks(() => session));
      const shared = request.shared === true;
      hooks.push({
        closed(record) {
          metrics?.sessionFinished({
            frontEnd: record.frontEnd,
            closeCode: record.closeCode,
            closedBy: record.closedBy,
            error: record.error,
            bytesFromClient: record.bytesFromClient,
            bytesFromTarget: record.bytesFromTarget,
            protocol: record.protocol,
            durationSeconds: record.durationMs / 1000,
            dropped: record.dropped,
            principal: record.principal,
          });
          logSessionSummary(deps.logger, record);
        },
        released() {
          sessions.delete(session);
          idleCollector.ended();
          // A stream's connection holds the slot; a session of its own WebSocket holds it itself.
          if (!shared) entrant.slot.release();
        },
      });
      const session = new Session(shared ? streamContext : context, {
        id,
        frontEnd: request.frontEnd,
        client: request.client,
        chooser: request.chooser,
        status: request.status,
        clientAddress: request.label ?? entrant.client.label,
        clientInfo: entrant.client,
        peer: entrant.client.label,
        wisp: request.wisp,
        grant: entrant.grant,
        identity: entrant.identity,
        hooks,
      });
      sessions.add(session);
      idleCollector.started();
      return session;
    },
  };
  const context: SessionContext = {
    settings: {
      handshakeTimeout: config.timeout,
      maxLifetime: config.maxLifetime,
      idleTimeout: config.idleTimeout,
    },
    logger: deps.logger,
    metrics,
    flow: deps.flow ?? DEFAULT_FLOW,
    reach: admission.reach,
    bandwidthFor:
      deps.bandwidthFor ??
      principalBandwidth(access, (bytesPerSecond) => new Bandwidth({ bytesPerSecond })),
    // A rule's idle_timeout needs the last byte's time, from the first reading of the file on.
    trackActivity: deps.accessRules !== undefined,
  };
  /** A Wisp stream is a session whose client side is the stream; its connection's clock bounds it. */
  const streamContext: SessionContext = {
    ...context,
    settings: { ...context.settings, maxLifetime: 0 },
  };
  return door;
}
