import type { ServerWebSocket } from "bun";
import { LogLevels } from "consola";
import type { AdapterRegistry } from "../adapters/registry.ts";
import type { ProtocolAdapter, TargetConnection } from "../adapters/types.ts";
import type { CredentialCheck } from "../auth/credentials.ts";
import { type Handshake, parseHandshake } from "../handshake/parse.ts";
import { formatBytes, type Logger } from "../log/logger.ts";
import type { FinishedSession } from "../metrics/metrics.ts";
import { formatHostPort } from "../net/host-port.ts";
import type { Policy } from "../policy/policy.ts";
import type { Resolver } from "../policy/resolver.ts";
import {
  CloseCode,
  CloseReason,
  type ConnectedStatus,
  type ErrorCode,
  type ErrorStatus,
} from "../protocol/constants.ts";
import { ProxyError } from "../protocol/errors.ts";
import { createRelay, type FlowLimits, type TargetRelay } from "../relay/relay.ts";
import type { ServerConfig } from "../server/config.ts";
import { AccessDenied, checkedLocations, type Grant, grantFor } from "./access.ts";
import { connectWithin } from "./connect.ts";

export type Phase = "handshake" | "connecting" | "proxying" | "closed";

/** What every session of one server shares. */
export interface SessionContext {
  readonly config: ServerConfig;
  readonly registry: AdapterRegistry;
  readonly logger: Logger;
  readonly flow: FlowLimits;
  /** The server's target policy; a ticket may narrow it per session. */
  readonly policy: Policy;
  /** Resolves host names once; sessions connect only to addresses it returned and the policy passed. */
  readonly resolver: Resolver;
  readonly credentials: CredentialCheck;
  /** Called once when the session's WebSocket has closed. */
  readonly onClosed: (session: Session) => void;
}

/** How long a departed client's last bytes may take to reach a target that reads slowly. */
const TARGET_FLUSH_GRACE_MS = 30_000;

/** How much of each payload chunk a trace line shows. */
const TRACE_PAYLOAD_BYTES = 32;

let nextId = 1;

/**
 * One client connection, from upgrade to close: greeting → handshake → connecting → proxying.
 * Lives in `ws.data`; every callback from a socket lands here and never throws.
 */
export class Session {
  readonly id = nextId++;
  readonly startedAt = performance.now();
  phase: Phase = "handshake";
  /** Counted towards --max-connections (not when refused for capacity). */
  counted = false;

  private ws: ServerWebSocket<Session> | undefined;
  private relay: TargetRelay | undefined;
  private target: TargetConnection | undefined;
  private targetLabel = "-";
  private closeCode: number | undefined;
  private errorCode: ErrorCode | undefined;
  private clientGone = false;
  private frozen = false;
  private readonly tracing: boolean;
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private lifetimeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly context: SessionContext,
    readonly clientAddress: string,
    /** A credential the upgrade's Authorization header already proved. */
    private readonly headerGrant?: Grant,
  ) {
    this.tracing = context.logger.level >= LogLevels.trace;
  }

  get bufferedToClient(): number {
    return this.ws && !this.clientGone ? this.ws.getBufferedAmount() : 0;
  }

  get bytesFromClient(): number {
    return this.relay?.bytesFromClient ?? 0;
  }

  get bytesFromTarget(): number {
    return this.relay?.bytesFromTarget ?? 0;
  }

  /** The figures of a session that has closed, for metrics. */
  get finished(): FinishedSession {
    return {
      closeCode: this.closeCode,
      error: this.errorCode,
      bytesFromClient: this.bytesFromClient,
      bytesFromTarget: this.bytesFromTarget,
    };
  }

  get pendingToTarget(): number {
    return this.relay?.pendingToTarget ?? 0;
  }

  /** The upgrade is done and the session counts: greet and start the clocks. */
  start(ws: ServerWebSocket<Session>): void {
    this.ws = ws;
    const { config } = this.context;
    ws.send(this.context.registry.greeting);
    this.handshakeTimer = setTimeout(
      () =>
        this.fail(new ProxyError("handshake_timeout", `no handshake within ${config.timeout} s`)),
      config.timeout * 1000,
    );
    if (config.maxLifetime > 0) {
      this.lifetimeTimer = setTimeout(
        () => this.close(CloseCode.maxLifetime, CloseReason.maxLifetime),
        config.maxLifetime * 1000,
      );
    }
  }

  /** Refuses a connection over capacity: no greeting, close 1013. */
  refuse(ws: ServerWebSocket<Session>, code: number, reason: string): void {
    this.ws = ws;
    this.close(code, reason);
  }

  message(data: string | Uint8Array): void {
    if (this.phase === "handshake") {
      this.handshake(data);
      return;
    }
    if (this.phase === "closed" || !this.relay) return;
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    if (this.tracing) this.tracePayload("client -> target", bytes);
    this.relay.fromClient(bytes);
  }

  drain(): void {
    if (!this.frozen) this.relay?.clientDrained();
  }

  /** The WebSocket closed, from either side, in any phase. */
  closed(code: number): void {
    this.clientGone = true;
    this.closeCode ??= code;
    this.clearTimers();
    // A connect still under way delivers the client's bytes itself once it opens (see `connect`).
    if (this.phase === "proxying") this.endTarget();
    this.phase = "closed";
    this.context.onClosed(this);
    if (this.counted) this.logFinished();
  }

  /** Stops reading from both sides for a shutdown; what is queued still flows. */
  freeze(): void {
    this.frozen = true;
    if (this.clientGone) return;
    this.ws?.pause();
    this.target?.pause();
  }

  close(code: number, reason: string): void {
    if (this.clientGone || !this.ws) return;
    this.closeCode ??= code;
    this.ws.close(code, reason);
  }

  private handshake(data: string | Uint8Array): void {
    let handshake: Handshake;
    try {
      handshake = parseHandshake(data, this.context.registry);
    } catch (error) {
      this.fail(error);
      return;
    }
    clearTimeout(this.handshakeTimer);
    this.phase = "connecting";
    this.relay = createRelay(handshake.adapter.transport, {
      client: this.clientSide(),
      limits: this.context.flow,
      trackActivity: this.context.config.idleTimeout > 0,
    });
    this.startIdleClock();
    this.connect(handshake).catch((error: unknown) => this.fail(error));
  }

  private async connect({ adapter, target, echo, token }: Handshake): Promise<void> {
    this.targetLabel = `${adapter.name} ${describeTarget(adapter, target)}`;
    this.context.logger.debug(`session ${this.id}: handshake for ${this.targetLabel}`);
    const { credentials, policy, resolver } = this.context;
    const grant = await grantFor(credentials, this.headerGrant, token);
    const locations = await checkedLocations(policy, resolver, grant, adapter, target);
    const relay = this.relay as TargetRelay;
    const connection = await connectWithin(
      this.context.config.connectTimeout,
      locations,
      (location, signal) =>
        adapter.open(
          // checkedLocations gives each adapter locations of its own endpoint kind.
          { target, location: location as never, signal },
          {
            data: this.tracing
              ? (chunk) => {
                  this.tracePayload("target -> client", chunk);
                  relay.fromTarget(chunk);
                }
              : (chunk) => relay.fromTarget(chunk),
            drain: () => relay.targetDrained(),
            end: () => this.targetEnded(CloseCode.normal, CloseReason.targetClosed),
            error: (error) => this.targetEnded(CloseCode.internalError, targetFailure(error)),
          },
        ),
    );
    this.target = connection;
    if (this.clientGone) {
      relay.attach(connection);
      this.endTarget();
      return;
    }
    const status: ConnectedStatus = { status: "connected", ...echo, protocol: adapter.name };
    this.ws?.send(JSON.stringify(status));
    this.phase = "proxying";
    relay.attach(connection);
    if (this.frozen) connection.pause();
    this.context.logger.debug(`session ${this.id}: connected to ${this.targetLabel}`);
  }

  /** The target's stream is over: the client gets every byte already read, then the close. */
  private targetEnded(code: number, reason: string): void {
    this.target = undefined;
    this.relay?.discard();
    this.close(code, reason);
  }

  private endTarget(): void {
    const target = this.target;
    const relay = this.relay;
    if (!target || !relay) return;
    relay.endTargetAfterFlush();
    if (relay.pendingToTarget > 0) {
      const guard = setTimeout(() => {
        if (relay.pendingToTarget > 0) target.destroy();
      }, TARGET_FLUSH_GRACE_MS);
      guard.unref();
    }
  }

  private fail(error: unknown): void {
    if (this.clientGone) {
      this.target?.destroy();
      return;
    }
    // After `connected` no error status may follow: whatever broke is an internal error.
    if (this.phase === "proxying") {
      this.context.logger.error(`session ${this.id}: internal error, closing it with 1011:`, error);
      this.target?.destroy();
      this.close(CloseCode.internalError, CloseReason.internalError);
      return;
    }
    const failure =
      error instanceof ProxyError
        ? error
        : new ProxyError("connect_failed", `internal error: ${String(error)}`);
    if (!(error instanceof ProxyError)) this.context.logger.error(`session ${this.id}:`, error);
    if (error instanceof AccessDenied) {
      this.context.logger.info(
        `session ${this.id} ${this.clientAddress}: ${error.code} ${this.targetLabel}: ${error.logReason}`,
      );
    }
    const status: ErrorStatus = { status: "error", error: failure.code, reason: failure.message };
    this.context.logger.debug(`session ${this.id}: ${failure.code}: ${failure.message}`);
    this.ws?.send(JSON.stringify(status));
    this.errorCode = failure.code;
    this.close(failure.closeCode, failure.code);
  }

  private startIdleClock(): void {
    const idleMs = this.context.config.idleTimeout * 1000;
    if (idleMs <= 0) return;
    const check = () => {
      const relay = this.relay;
      if (!relay || this.clientGone) return;
      const quietFor = Date.now() - relay.lastActivity;
      if (quietFor >= idleMs) this.close(CloseCode.idleTimeout, CloseReason.idleTimeout);
      else this.idleTimer = setTimeout(check, idleMs - quietFor);
    };
    this.idleTimer = setTimeout(check, idleMs);
  }

  /** Payload appears only at trace level, and only its first bytes. */
  private tracePayload(direction: string, chunk: Uint8Array): void {
    const shown = Buffer.from(chunk.subarray(0, TRACE_PAYLOAD_BYTES)).toString("hex");
    const more = chunk.byteLength > TRACE_PAYLOAD_BYTES ? "…" : "";
    this.context.logger.trace(
      `session ${this.id} ${direction} ${chunk.byteLength} B: ${shown}${more}`,
    );
  }

  private clientSide() {
    return {
      send: (chunk: Uint8Array) =>
        this.clientGone
          ? chunk.byteLength
          : (this.ws as ServerWebSocket<Session>).sendBinary(chunk),
      bufferedAmount: () => this.bufferedToClient,
      pause: () => {
        if (!this.clientGone) this.ws?.pause();
      },
      resume: () => {
        if (!this.clientGone && !this.frozen) this.ws?.resume();
      },
      close: (code: number, reason: string) => this.close(code, reason),
    };
  }

  private clearTimers(): void {
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.idleTimer);
    clearTimeout(this.lifetimeTimer);
  }

  private logFinished(): void {
    if (this.context.logger.level < LogLevels.info) return;
    const seconds = ((performance.now() - this.startedAt) / 1000).toFixed(3);
    this.context.logger.info(
      `session ${this.id} ${this.clientAddress} -> ${this.targetLabel}` +
        ` up ${formatBytes(this.bytesFromClient)} down ${formatBytes(this.bytesFromTarget)}` +
        ` ${seconds}s close ${this.closeCode}${this.droppedNote()}`,
    );
  }

  /** Datagram transports only: what was lost where UDP loses it. */
  private droppedNote(): string {
    const dropped = this.relay?.dropped;
    if (!dropped || dropped.toClient + dropped.toTarget === 0) return "";
    return ` dropped ${dropped.toClient} to client ${dropped.toTarget} to target`;
  }
}

function describeTarget(adapter: ProtocolAdapter, target: unknown): string {
  if (adapter.endpoint === "path") return adapter.locate(target);
  const { host, port } = adapter.locate(target);
  return formatHostPort(host, port);
}

function targetFailure(error: Error): string {
  const code = (error as { code?: string }).code;
  return code ? `${CloseReason.targetFailed}: ${code}` : CloseReason.targetFailed;
}
