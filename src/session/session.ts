import { LogLevels } from "consola";
import type {
  OpenRequest,
  ProtocolAdapter,
  TargetConnection,
  TargetEvents,
} from "../adapters/types.ts";
import type { CredentialCheck, Grant } from "../auth/credentials.ts";
import type { SessionEnd } from "../capture/session-capture.ts";
import type { SessionTap } from "../capture/sink.ts";
import { type OpenTap, tapConnection, tapEvents, transportOf } from "../capture/tap.ts";
import type { ClosedBy } from "../log/closed-by.ts";
import { fields, type Logger } from "../log/logger.ts";
import { clientText } from "../log/safe-text.ts";
import { logSessionSummary } from "../log/session-summary.ts";
import type { FinishedSession, SessionObserver } from "../metrics/metrics.ts";
import type { Resolver } from "../net/resolver.ts";
import type { Policy } from "../policy/policy.ts";
import {
  CloseCode,
  CloseReason,
  type ConnectedStatus,
  type ErrorCode,
} from "../protocol/constants.ts";
import { ProxyError } from "../protocol/errors.ts";
import {
  type ClientSide,
  createRelay,
  type FlowLimits,
  type TargetRelay as Relay,
} from "../relay/relay.ts";
import { AccessDenied, checkedLocations, describeTarget, grantFor } from "./access.ts";
import type { SessionClient } from "./client.ts";
import { connectWithin } from "./connect.ts";
import type { Selection, TargetChooser } from "./selection.ts";
import type { StatusReporter } from "./status.ts";

/** The clocks of a session, in whole seconds; 0 disables the ones that may be disabled. */
export interface SessionSettings {
  /** From the start until the client's choice arrives (`--timeout`). */
  readonly handshakeTimeout: number;
  readonly maxLifetime: number;
  readonly connectTimeout: number;
  readonly idleTimeout: number;
}

/** What every session of one server shares. */
export interface SessionContext {
  readonly settings: SessionSettings;
  readonly logger: Logger;
  readonly flow: FlowLimits;
  /** The server's target policy; a ticket may narrow it per session. */
  readonly policy: Policy;
  /** Resolves host names once; sessions connect only to addresses it returned and the policy passed. */
  readonly resolver: Resolver;
  readonly credentials: CredentialCheck;
  /** Called once, when the client's side has ended. */
  readonly onClosed: (session: Session) => void;
  /** Handshake and connect durations, as they happen (when metrics are on). */
  readonly metrics?: SessionObserver | undefined;
}

/** What one session is made of: who the client is, how it chooses a target, how it is told. */
export interface SessionParts {
  readonly id: number;
  readonly client: SessionClient;
  readonly chooser: TargetChooser;
  readonly status: StatusReporter;
  /** For logs: the client's address. */
  readonly clientAddress: string;
  /** A credential proved before the session began (an Authorization header). */
  readonly grant?: Grant | undefined;
  /** Opens the session's capture once its target is connected (--capture). */
  readonly capture?: OpenTap | undefined;
}

type Timer = ReturnType<typeof setTimeout>;

/**
 * Where a session is, and what it holds there. A state's resources are released when it is left;
 * callbacks that arrive for a state already left find another `kind` and do nothing.
 */
export type SessionState =
  /** Started, waiting for the chooser's message (the greeting has been sent). */
  | { readonly kind: "handshake"; readonly timer: Timer | undefined }
  /** A target is chosen; checking, resolving and opening it. The relay holds early client bytes. */
  | {
      readonly kind: "connecting";
      readonly relay: Relay;
      readonly abort: AbortController;
      idle: Timer | undefined;
    }
  /** Bytes flow both ways. `frozen`: a shutdown stopped reading from both sides. */
  | {
      readonly kind: "proxying";
      readonly relay: Relay;
      readonly target: TargetConnection;
      idle: Timer | undefined;
      frozen: boolean;
    }
  /** The client's side has ended; figures are final. A connect under way may still deliver. */
  | {
      readonly kind: "closed";
      readonly bytesFromClient: number;
      readonly bytesFromTarget: number;
      readonly dropped: Relay["dropped"] | undefined;
    };

export type SessionPhase = SessionState["kind"];

/** How long a departed client's last bytes may take to reach a target that reads slowly. */
const TARGET_FLUSH_GRACE_MS = 30_000;

/** How much of each payload chunk a trace line shows. */
const TRACE_PAYLOAD_BYTES = 32;

/**
 * One client's session, from start to close: choose a target → connect → proxy. Every event from
 * the client or the target lands here and never throws. A bug before `connected` takes the same
 * path as after it: logged, then close 1011 `internal error` (no status message: only the
 * protocol's own failures have an `error` code).
 */
export class Session {
  readonly id: number;
  readonly clientAddress: string;
  readonly startedAt = performance.now();

  private state: SessionState = { kind: "handshake", timer: undefined };
  private targetLabel = "-";
  /** The adapter and `host:port` chosen, for metrics and log fields. */
  private chosenProtocol: string | undefined;
  private chosenTarget: string | undefined;
  private closeCode: number | undefined;
  /** Who chose `closeCode`: set with it. */
  private closedBy: ClosedBy = "client";
  private errorCode: ErrorCode | undefined;
  private lifetime: Timer | undefined;
  private closeReason = "";
  private tap: SessionTap | undefined;
  /** How the stream to the target ended, for the capture: the client's close unless told otherwise. */
  private ending: SessionEnd = "client-end";
  private readonly tracing: boolean;
  private readonly client: SessionClient;

  constructor(
    private readonly context: SessionContext,
    private readonly parts: SessionParts,
  ) {
    this.id = parts.id;
    this.clientAddress = parts.clientAddress;
    this.client = parts.client;
    this.tracing = context.logger.level >= LogLevels.trace;
  }

  get phase(): SessionPhase {
    return this.state.kind;
  }

  get bufferedToClient(): number {
    return this.state.kind === "closed" ? 0 : this.client.bufferedAmount();
  }

  get bytesFromClient(): number {
    const state = this.state;
    return state.kind === "closed"
      ? state.bytesFromClient
      : (this.relayOf(state)?.bytesFromClient ?? 0);
  }

  get bytesFromTarget(): number {
    const state = this.state;
    return state.kind === "closed"
      ? state.bytesFromTarget
      : (this.relayOf(state)?.bytesFromTarget ?? 0);
  }

  get pendingToTarget(): number {
    const state = this.state;
    return state.kind === "closed" ? 0 : (this.relayOf(state)?.pendingToTarget ?? 0);
  }

  /** The adapter the session chose; undefined before its target is chosen. */
  get protocol(): string | undefined {
    return this.chosenProtocol;
  }

  /** The figures of a session that has closed, for metrics. */
  get finished(): FinishedSession {
    return {
      closeCode: this.closeCode,
      closedBy: this.closedBy,
      error: this.errorCode,
      bytesFromClient: this.bytesFromClient,
      bytesFromTarget: this.bytesFromTarget,
      protocol: this.chosenProtocol,
      durationSeconds: (performance.now() - this.startedAt) / 1000,
      dropped: this.state.kind === "closed" ? this.state.dropped : undefined,
    };
  }

  /** The session counts from here: start the clocks, and greet or go straight to the target. */
  start(): void {
    const { settings } = this.context;
    if (settings.maxLifetime > 0) {
      this.lifetime = setTimeout(
        () => this.close(CloseCode.maxLifetime, CloseReason.maxLifetime),
        settings.maxLifetime * 1000,
      );
    }
    const { chooser } = this.parts;
    if (chooser.kind === "fixed") {
      this.chosen(chooser.selection);
      return;
    }
    if (chooser.kind === "refused") {
      this.fail(chooser.error);
      return;
    }
    this.client.sendText(chooser.greeting);
    if (this.state.kind !== "handshake") return;
    this.state = {
      kind: "handshake",
      timer: setTimeout(
        () =>
          this.fail(
            new ProxyError(
              "handshake_timeout",
              `no handshake within ${settings.handshakeTimeout} s`,
            ),
          ),
        settings.handshakeTimeout * 1000,
      ),
    };
  }

  /** A message from the client. */
  message(data: string | Uint8Array): void {
    const state = this.state;
    if (state.kind === "handshake") {
      const { chooser } = this.parts;
      if (chooser.kind !== "message") return;
      this.context.metrics?.handshakeReceived((performance.now() - this.startedAt) / 1000);
      let selection: Selection;
      try {
        selection = chooser.choose(data);
      } catch (error) {
        this.fail(error);
        return;
      }
      this.chosen(selection);
      return;
    }
    if (state.kind === "closed") return;
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    if (this.tracing) this.tracePayload("client -> target", bytes);
    state.relay.fromClient(bytes);
  }

  /** The client can take more after backpressure. */
  clientDrained(): void {
    const state = this.state;
    if (state.kind === "proxying" && !state.frozen) state.relay.clientDrained();
  }

  /**
   * The client's side ended, from either side, in any state. `by`: who chose `code` when the
   * session had not chosen one (a Wisp connection the server closed ends its streams here).
   */
  clientClosed(code: number, reason = "", by: ClosedBy = "client"): void {
    const state = this.state;
    if (state.kind === "closed") return;
    if (this.closeCode === undefined) {
      this.closeReason = reason;
      this.closedBy = by;
    }
    this.closeCode ??= code;
    clearTimeout(this.lifetime);
    if (state.kind === "handshake") clearTimeout(state.timer);
    else clearTimeout(state.idle);
    // A connect under way delivers the client's bytes itself once it opens (see `connect`).
    if (state.kind === "proxying") endTargetAfterFlush(state.relay, state.target);
    const relay = this.relayOf(state);
    this.state = {
      kind: "closed",
      bytesFromClient: relay?.bytesFromClient ?? 0,
      bytesFromTarget: relay?.bytesFromTarget ?? 0,
      dropped: relay?.dropped,
    };
    this.tap?.close({ code: this.closeCode, reason: this.closeReason, how: this.ending });
    this.context.onClosed(this);
    this.logFinished();
  }

  /**
   * A shutdown begins: a proxying session stops reading from both sides so that what is queued
   * can flush; a session in any other state closes now with 1001.
   */
  shutdown(): void {
    const state = this.state;
    if (state.kind === "closed") return;
    if (state.kind !== "proxying") {
      this.close(CloseCode.goingAway, CloseReason.shuttingDown);
      return;
    }
    state.frozen = true;
    this.client.pause();
    state.target.pause();
  }

  close(code: number, reason: string, by: ClosedBy = "server"): void {
    if (this.state.kind === "closed") return;
    if (this.closeCode === undefined) {
      this.closeReason = reason;
      this.closedBy = by;
    }
    this.closeCode ??= code;
    this.client.close(code, reason);
  }

  private chosen(selection: Selection): void {
    const previous = this.state;
    if (previous.kind !== "handshake") return;
    clearTimeout(previous.timer);
    const relay = createRelay(selection.adapter.transport, {
      client: this.relayClient(),
      limits: this.context.flow,
      trackActivity: this.context.settings.idleTimeout > 0,
    });
    const state: SessionState = {
      kind: "connecting",
      relay,
      abort: new AbortController(),
      idle: undefined,
    };
    this.state = state;
    this.startIdleClock(state);
    const began = performance.now();
    const observe = (outcome: "connected" | "failed" | "timeout") =>
      this.context.metrics?.targetConnect(
        selection.adapter.name,
        (performance.now() - began) / 1000,
        outcome,
      );
    this.connect(selection, state).then(
      () => observe("connected"),
      (error: unknown) => {
        // Refused by policy or credential: not a connect attempt.
        const code = error instanceof ProxyError ? error.code : undefined;
        if (code === "connect_timeout") observe("timeout");
        else if (code === "connect_failed") observe("failed");
        state.abort.abort();
        this.fail(error);
      },
    );
  }

  private async connect(
    { adapter, target, echo, token }: Selection,
    connecting: Extract<SessionState, { kind: "connecting" }>,
  ): Promise<void> {
    this.chosenProtocol = adapter.name;
    this.chosenTarget = describeTarget(adapter, target);
    this.targetLabel = `${adapter.name} ${clientText(this.chosenTarget)}`;
    this.context.logger.debug(`session ${this.id}: target ${this.targetLabel}`);
    const { credentials, policy, resolver, settings } = this.context;
    const grant = await grantFor(credentials, this.parts.grant, token);
    const locations = await checkedLocations(policy, resolver, grant, adapter, target);
    const { relay } = connecting;
    const connection = await connectWithin(
      settings.connectTimeout,
      locations,
      (location, signal) =>
        this.openTarget(
          adapter,
          // checkedLocations gives each adapter locations of its own endpoint kind.
          { target, location, signal },
          {
            data: this.tracing
              ? (chunk) => {
                  this.tracePayload("target -> client", chunk);
                  relay.fromTarget(chunk);
                }
              : (chunk) => relay.fromTarget(chunk),
            drain: () => relay.targetDrained(),
            end: () => this.targetEnded(relay, CloseCode.normal, CloseReason.targetClosed),
            error: (error) =>
              this.targetEnded(relay, CloseCode.internalError, targetFailure(error)),
          },
        ),
      connecting.abort,
    );
    if (this.state !== connecting) {
      // The client left while the target was opening: it still gets what the client sent.
      relay.attach(connection);
      endTargetAfterFlush(relay, connection);
      return;
    }
    const status: ConnectedStatus = { status: "connected", ...echo, protocol: adapter.name };
    this.parts.status.connected(status);
    this.state = {
      kind: "proxying",
      relay,
      target: connection,
      idle: connecting.idle,
      frozen: false,
    };
    relay.attach(connection);
    this.context.logger.debug(`session ${this.id}: connected to ${this.targetLabel}`);
  }

  /** Opens the target; with --capture, the session's capture taps it once it is open. */
  private async openTarget(
    adapter: ProtocolAdapter,
    request: OpenRequest<unknown>,
    events: TargetEvents,
  ): Promise<TargetConnection> {
    const open = adapter.open.bind(adapter) as (
      request: OpenRequest<unknown>,
      events: TargetEvents,
    ) => Promise<TargetConnection>;
    const connection = await open(
      request,
      tapEvents(events, () => this.tap),
    );
    const openTap = this.parts.capture;
    // A connection the session will not use (timed out, client gone) is never captured.
    if (!openTap || request.signal.aborted || this.state.kind !== "connecting") return connection;
    const { location } = request;
    this.tap = openTap({
      protocol: adapter.name,
      transport: transportOf(adapter),
      address: location.kind === "network" ? location.address : "",
      port: location.kind === "network" ? location.port : 0,
      host:
        adapter.endpoint === "network"
          ? adapter.locate(request.target).host
          : (location as { path?: string }).path,
    });
    return this.tap ? tapConnection(connection, this.tap) : connection;
  }

  /** The target's stream is over: the client gets every byte already read, then the close. */
  private targetEnded(relay: Relay, code: number, reason: string): void {
    this.ending = code === CloseCode.normal ? "target-end" : "target-reset";
    relay.discard();
    this.close(code, reason, "target");
  }

  private fail(error: unknown): void {
    const state = this.state;
    const isProxyError = error instanceof ProxyError;
    if (state.kind === "closed") {
      // Nobody to tell: the client left while the target was being chosen or opened.
      if (isProxyError)
        this.context.logger.debug(
          `session ${this.id}: ${error.code}: ${clientText(error.message)}`,
        );
      else this.context.logger.error(`session ${this.id}: internal error after close:`, error);
      return;
    }
    if (state.kind === "proxying") {
      state.target.destroy();
      this.ending = "client-reset";
    }
    // A bug, in any state: no status message may describe it; 1011 does.
    if (!isProxyError || state.kind === "proxying") {
      this.context.logger.error(
        `session ${this.id}: internal error, closing it with 1011:`,
        error,
        fields({ session: this.id, client: this.clientAddress, target: this.chosenTarget }),
      );
      this.close(CloseCode.internalError, CloseReason.internalError);
      return;
    }
    if (error instanceof AccessDenied) {
      this.context.logger.info(
        `session ${this.id} ${this.clientAddress}: ${error.code} ${this.targetLabel}: ${error.logReason}`,
        fields({
          session: this.id,
          client: this.clientAddress,
          protocol: this.chosenProtocol,
          target: this.chosenTarget,
          error: error.code,
          reason: error.logReason,
        }),
      );
    }
    this.context.logger.debug(`session ${this.id}: ${error.code}: ${clientText(error.message)}`);
    this.errorCode = error.code;
    this.parts.status.failed(error);
    this.close(error.closeCode, error.code);
  }

  private startIdleClock(connecting: Extract<SessionState, { kind: "connecting" }>): void {
    const idleMs = this.context.settings.idleTimeout * 1000;
    if (idleMs <= 0) return;
    const { relay } = connecting;
    const check = () => {
      const state = this.state;
      if (state.kind !== "connecting" && state.kind !== "proxying") return;
      const quietFor = Date.now() - relay.lastActivity;
      if (quietFor >= idleMs) this.close(CloseCode.idleTimeout, CloseReason.idleTimeout);
      else state.idle = setTimeout(check, idleMs - quietFor);
    };
    connecting.idle = setTimeout(check, idleMs);
  }

  private relayOf(state: SessionState): Relay | undefined {
    return state.kind === "connecting" || state.kind === "proxying" ? state.relay : undefined;
  }

  /** The relay's view of the client: silent once the client has gone, held while frozen. */
  private relayClient(): ClientSide {
    const open = () => this.state.kind !== "closed";
    return {
      send: (chunk) => (open() ? this.client.sendBinary(chunk) : chunk.byteLength),
      bufferedAmount: () => this.bufferedToClient,
      pause: () => {
        if (open()) this.client.pause();
      },
      resume: () => {
        const state = this.state;
        if (state.kind === "connecting" || (state.kind === "proxying" && !state.frozen)) {
          this.client.resume();
        }
      },
      close: (code, reason) => this.close(code, reason),
    };
  }

  /** Payload appears only at trace level, and only its first bytes. */
  private tracePayload(direction: string, chunk: Uint8Array): void {
    const shown = Buffer.from(chunk.subarray(0, TRACE_PAYLOAD_BYTES)).toString("hex");
    const more = chunk.byteLength > TRACE_PAYLOAD_BYTES ? "…" : "";
    this.context.logger.trace(
      `session ${this.id} ${direction} ${chunk.byteLength} B: ${shown}${more}`,
    );
  }

  private logFinished(): void {
    logSessionSummary(this.context.logger, {
      session: this.id,
      client: this.clientAddress,
      protocol: this.chosenProtocol,
      target: this.chosenTarget,
      bytesFromClient: this.bytesFromClient,
      bytesFromTarget: this.bytesFromTarget,
      durationMs: performance.now() - this.startedAt,
      closeCode: this.closeCode,
      closedBy: this.closedBy,
      error: this.errorCode,
      dropped: this.state.kind === "closed" ? this.state.dropped : undefined,
    });
  }
}

/** The client is gone: the target gets what was already received, then its end of stream. */
function endTargetAfterFlush(relay: Relay, target: TargetConnection): void {
  relay.endTargetAfterFlush();
  if (relay.pendingToTarget > 0) {
    const guard = setTimeout(() => {
      if (relay.pendingToTarget > 0) target.destroy();
    }, TARGET_FLUSH_GRACE_MS);
    guard.unref();
  }
}

function targetFailure(error: Error): string {
  const code = (error as { code?: string }).code;
  return code ? `${CloseReason.targetFailed}: ${code}` : CloseReason.targetFailed;
}
