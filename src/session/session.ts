import { LogLevels } from "consola";
import type { Location, TargetConnection, TargetEvents } from "../adapters/types.ts";
import { describeTarget } from "../admission/access.ts";
import type { ClientInfo, Reached, ReachRequest } from "../admission/admission.ts";
import type { Lease } from "../admission/principal-access.ts";
import { Refusal } from "../admission/refusal.ts";
import type { Grant } from "../auth/credentials.ts";
import { ANONYMOUS, type Principal } from "../auth/principal.ts";
import type { SessionBandwidth } from "../limits/bandwidth.ts";
import type { ClosedBy } from "../log/closed-by.ts";
import { fields, type Logger } from "../log/logger.ts";
import { clientText } from "../log/safe-text.ts";
import type { FrontEndName } from "../metrics/labels.ts";
import type { FinishedSession, SessionObserver } from "../metrics/metrics.ts";
import { CloseCode, CloseReason } from "../protocol/constants.ts";
import { ProxyError } from "../protocol/errors.ts";
import { createRelay } from "../relay/relay.ts";
import type {
  ClientSide,
  FlowLimits,
  TargetRelay as Relay,
  RelayObserver,
} from "../relay/types.ts";
import type { SessionClient } from "./client.ts";
import { type Clock, idleClock, lifetimeClock, STOPPED } from "./clock.ts";
import type { SessionEnd } from "./end.ts";
import { listenerOf, type OpenedTarget, type SessionHooks, type SessionRecord } from "./hooks.ts";
import type { Selection, TargetChooser } from "./selection.ts";
import type { StatusReporter } from "./status.ts";

/** The clocks of a session, in whole seconds; 0 disables the ones that may be disabled. */
export interface SessionSettings {
  /** From the start until the client's choice arrives (`--timeout`). */
  readonly handshakeTimeout: number;
  readonly maxLifetime: number;
  readonly idleTimeout: number;
}

/** What every session of one server shares. */
export interface SessionContext {
  readonly settings: SessionSettings;
  /** Track the last byte's time even without --idle-timeout (an access rule may set one). */
  readonly trackActivity?: boolean;
  readonly logger: Logger;
  readonly flow: FlowLimits;
  /** Opens a chosen target: grant and policy, resolution once, connect within the timeout. */
  readonly reach: (
    request: ReachRequest,
    events: TargetEvents,
    abort: AbortController,
  ) => Promise<Reached>;
  /** Handshake and connect durations, as they happen (when metrics are on). */
  readonly metrics?: SessionObserver | undefined;
  /**
   * The bandwidth limits of a session of `principal`, asked once it starts proxying (only then is
   * its principal known: the handshake's token is checked when its target is reached).
   */
  readonly bandwidthFor?: BandwidthFor | undefined;
}

/** The limits a session's bytes are under; undefined: none. */
export type BandwidthFor = (
  principal: Principal,
  frontEnd: FrontEndName,
) => SessionBandwidth | undefined;

/** What one session is made of: who the client is, how it chooses a target, how it is told. */
export interface SessionParts {
  readonly id: number;
  readonly frontEnd: FrontEndName;
  readonly client: SessionClient;
  readonly chooser: TargetChooser;
  readonly status: StatusReporter;
  /** For logs: the client's address. */
  readonly clientAddress: string;
  /** The client as admission established it: a PROXY protocol header names it to the target. */
  readonly clientInfo?: ClientInfo | undefined;
  /** The client's address alone, when `clientAddress` says more (a Wisp stream's label). */
  readonly peer?: string | undefined;
  /** A Wisp stream: its connection and stream id. */
  readonly wisp?: WispTag | undefined;
  /** A credential proved before the session began (an Authorization header, the URL). */
  readonly grant?: Grant | undefined;
  /** The principal a trusted front proxy named (`--identity-header`). */
  readonly identity?: Principal | undefined;
  /** Observers: capture, metrics, logs, the server's table, a Wisp stream's credit. */
  readonly hooks: readonly SessionHooks[];
}

/** Which Wisp connection and stream a session serves. */
export interface WispTag {
  readonly connection: number;
  readonly stream: number;
}

/** Which sides are not being read: the client (the target is behind) or the target. */
export interface Paused {
  readonly client: boolean;
  readonly target: boolean;
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
      readonly idle: Clock;
    }
  /** Bytes flow both ways. `frozen`: a shutdown stopped reading from both sides. */
  | {
      readonly kind: "proxying";
      readonly relay: Relay;
      readonly target: TargetConnection;
      readonly idle: Clock;
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
 * protocol's own failures have an `error` code). Observers (`SessionHooks`) are told as it goes.
 */
export class Session {
  readonly id: number;
  readonly clientAddress: string;
  readonly frontEnd: FrontEndName;
  readonly startedAt = performance.now();
  /** The wall clock at the start (Date.now()), for people; `startedAt` is for durations. */
  readonly startedAtMs = Date.now();

  private state: SessionState = { kind: "handshake", timer: undefined };
  /** The adapter and `host:port` chosen, for metrics and log fields. */
  private chosenProtocol: string | undefined;
  private chosenTarget: string | undefined;
  private closeCode: number | undefined;
  /** Who chose `closeCode`: set with it. */
  private closedBy: ClosedBy = "client";
  private errorCode: string | undefined;
  private lifetime: Clock | undefined;
  private closeReason = "";
  /** How the stream to the target ended, for the capture: the client's close unless told otherwise. */
  private ending: SessionEnd = "client-end";
  /** A target connection is open, or being opened, for this session. */
  private holdsTarget = false;
  private wasReleased = false;
  /** Where the target was reached (the checked address or path), once connected. */
  private location: Location | undefined;
  private clientReadPaused = false;
  private targetReadPaused = false;
  /** The credential its target was reached with, once reached. */
  private proved: Grant | undefined;
  /** The access rule's own max_lifetime and idle_timeout clocks. */
  private readonly ruleClocks: Clock[] = [];
  /** The principal admission established, even when it then refused the target. */
  private identified: Principal | undefined;
  /** The principal's access rule, held from the target's opening until the session is released. */
  private lease: Lease | undefined;
  private readonly tracing: boolean;
  /** Debug lines are made only when they are written: a session has a few on its way. */
  private readonly debugging: boolean;
  private readonly client: SessionClient;
  private readonly hooks: readonly SessionHooks[];

  constructor(
    private readonly context: SessionContext,
    private readonly parts: SessionParts,
  ) {
    this.id = parts.id;
    this.clientAddress = parts.clientAddress;
    this.frontEnd = parts.frontEnd;
    this.client = parts.client;
    this.hooks = parts.hooks;
    this.tracing = context.logger.level >= LogLevels.trace;
    this.debugging = context.logger.level >= LogLevels.debug;
  }

  get phase(): SessionPhase {
    return this.state.kind;
  }

  /** False once the client has gone and the target is closed: nothing of it is held. */
  get holding(): boolean {
    return !this.wasReleased;
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

  /** Who the session belongs to: the name its credential gives, `anonymous` without one. */
  get principal(): Principal {
    return (
      this.proved?.principal ??
      this.identified ??
      this.parts.identity ??
      this.parts.grant?.principal ??
      ANONYMOUS
    );
  }

  /** The client's address (without a Wisp stream's label). */
  get peer(): string {
    return this.parts.peer ?? this.clientAddress;
  }

  get wisp(): WispTag | undefined {
    return this.parts.wisp;
  }

  /** `host:port` or the path the client asked for; undefined before its target is chosen. */
  get target(): string | undefined {
    return this.chosenTarget;
  }

  /** The address or path connected to, once connected. */
  get connectedTo(): Location | undefined {
    return this.location;
  }

  get paused(): Paused {
    return { client: this.clientReadPaused, target: this.targetReadPaused };
  }

  /** The adapter the session chose; undefined before its target is chosen. */
  get protocol(): string | undefined {
    return this.chosenProtocol;
  }

  /** The figures of a session that has closed, for metrics. */
  get finished(): FinishedSession {
    return {
      frontEnd: this.frontEnd,
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
    // No clock, and no closure for it, when there is no limit (a Wisp stream's connection has it).
    if (settings.maxLifetime > 0) {
      this.lifetime = lifetimeClock(settings.maxLifetime, () =>
        this.close(CloseCode.maxLifetime, CloseReason.maxLifetime),
      );
    }
    const { chooser } = this.parts;
    switch (chooser.kind) {
      case "fixed":
        this.chosen(chooser.selection);
        return;
      case "reached":
        this.proxyReached(chooser.selection, chooser.reached, chooser.attach);
        return;
      case "refused":
        this.fail(chooser.error);
        return;
      case "message":
        break;
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
    this.lifetime?.stop();
    for (const clock of this.ruleClocks) clock.stop();
    if (state.kind === "handshake") clearTimeout(state.timer);
    else state.idle.stop();
    // A connect under way delivers the client's bytes itself once it opens (see `connect`).
    if (state.kind === "proxying") this.endTargetAfterFlush(state.relay, state.target);
    const relay = this.relayOf(state);
    this.state = {
      kind: "closed",
      bytesFromClient: relay?.bytesFromClient ?? 0,
      bytesFromTarget: relay?.bytesFromTarget ?? 0,
      dropped: relay?.dropped,
    };
    const record = this.record();
    for (const hooks of this.hooks) hooks.closed?.(record);
    this.releaseIfDone();
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
    state.relay.freeze();
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
    const relay = this.createRelay(selection);
    const state: SessionState = {
      kind: "connecting",
      relay,
      abort: new AbortController(),
      idle: this.idleClock(relay),
    };
    this.state = state;
    const began = performance.now();
    const { metrics } = this.context;
    // Without metrics, no closure to time the connect.
    const observe =
      metrics &&
      ((outcome: "connected" | "failed" | "timeout") =>
        metrics.targetConnect(selection.adapter.name, (performance.now() - began) / 1000, outcome));
    this.holdsTarget = true;
    this.connect(selection, state).then(
      observe && (() => observe("connected")),
      (error: unknown) => {
        // Refused by policy or credential: not a connect attempt.
        const code = error instanceof Refusal ? error.code : undefined;
        if (code === "connect_timeout") observe?.("timeout");
        else if (code === "connect_failed") observe?.("failed");
        state.abort.abort();
        this.targetGone();
        this.fail(error);
      },
    );
  }

  private async connect(
    selection: Selection,
    connecting: Extract<SessionState, { kind: "connecting" }>,
  ): Promise<void> {
    const { adapter, target, token } = selection;
    this.describe(selection);
    const { relay } = connecting;
    const reached = await this.context.reach(
      {
        adapter,
        target,
        grant: this.parts.grant,
        token,
        client: this.parts.clientInfo,
        sessionId: this.parts.id,
        frontEnd: this.frontEnd,
        identity: this.parts.identity,
        identified: (principal) => {
          this.identified = principal;
        },
      },
      this.targetEvents(relay),
      connecting.abort,
    );
    if (this.state !== connecting) {
      // The client left while the target was opening: it still gets what the client sent.
      this.lease = reached.lease;
      relay.attach(reached.connection);
      this.endTargetAfterFlush(relay, reached.connection);
      return;
    }
    this.holdLease(reached.lease, relay);
    this.proxying(selection, reached, relay, connecting.idle);
  }

  /** A target opened before the session began (a raw session): straight to proxying. */
  private proxyReached(
    selection: Selection,
    reached: Reached,
    attach: (events: TargetEvents) => void,
  ): void {
    if (this.state.kind !== "handshake") return;
    this.describe(selection);
    const relay = this.createRelay(selection);
    this.holdLease(reached.lease, relay);
    this.holdsTarget = true;
    this.proxying(selection, reached, relay, this.idleClock(relay));
    attach(this.targetEvents(relay));
  }

  private proxying(selection: Selection, reached: Reached, relay: Relay, idle: Clock): void {
    const { adapter, target } = selection;
    this.parts.status.connected(selection);
    this.state = { kind: "proxying", relay, target: reached.connection, idle, frozen: false };
    this.proved = reached.grant;
    this.location = reached.location;
    const bandwidth = this.context.bandwidthFor?.(this.principal, this.frontEnd);
    if (bandwidth) {
      relay.limit(bandwidth);
      for (const hooks of this.hooks) hooks.limited?.(bandwidth);
    }
    // Without an `opened` observer its argument is not even built.
    let opened: OpenedTarget | undefined;
    for (const hooks of this.hooks) {
      if (!hooks.opened) continue;
      opened ??= {
        protocol: adapter.name,
        transport: adapter.transport,
        location: reached.location,
        host:
          adapter.endpoint === "network"
            ? adapter.locate(target).host
            : reached.location.kind === "path"
              ? reached.location.path
              : undefined,
      };
      hooks.opened(opened);
    }
    relay.attach(reached.connection);
    if (this.debugging)
      this.context.logger.debug(`session ${this.id}: connected to ${this.targetLabel}`);
  }

  private describe({ adapter, target }: Selection): void {
    this.chosenProtocol = adapter.name;
    this.chosenTarget = describeTarget(adapter, target);
    if (this.debugging) this.context.logger.debug(`session ${this.id}: target ${this.targetLabel}`);
  }

  /** The adapter and target for log lines, `-` before one is chosen. */
  private get targetLabel(): string {
    const target = this.chosenTarget;
    return target === undefined ? "-" : `${this.chosenProtocol} ${clientText(target)}`;
  }

  private createRelay(selection: Selection): Relay {
    return createRelay(selection.adapter.transport, {
      client: this.relayClient(),
      limits: this.context.flow,
      trackActivity: this.context.settings.idleTimeout > 0 || this.context.trackActivity === true,
      observer: this.relayObserver(),
    });
  }

  private idleClock(relay: Relay): Clock {
    if (this.context.settings.idleTimeout <= 0) return STOPPED;
    return idleClock(
      this.context.settings.idleTimeout * 1000,
      () => relay.lastActivity,
      () => this.close(CloseCode.idleTimeout, CloseReason.idleTimeout),
    );
  }

  /** The target's events, as the session handles them and tells its observers. */
  private targetEvents(relay: Relay): TargetEvents {
    const fromTarget = listenerOf(this.hooks, "fromTarget");
    const targetDrained = listenerOf(this.hooks, "targetDrained");
    return {
      data:
        fromTarget || this.tracing
          ? (chunk) => {
              if (this.tracing) this.tracePayload("target -> client", chunk);
              fromTarget?.(chunk);
              relay.fromTarget(chunk);
            }
          : (chunk) => relay.fromTarget(chunk),
      drain: targetDrained
        ? () => {
            relay.targetDrained();
            targetDrained();
          }
        : () => relay.targetDrained(),
      end: () => this.targetEnded(relay, CloseCode.normal, CloseReason.targetClosed),
      error: (error) => this.targetEnded(relay, CloseCode.internalError, targetFailure(error)),
    };
  }

  private relayObserver(): RelayObserver {
    const toTarget = listenerOf(this.hooks, "toTarget");
    const targetPaused = listenerOf(this.hooks, "targetPaused");
    return {
      toTarget,
      targetPaused: (paused) => {
        this.targetReadPaused = paused;
        targetPaused?.(paused);
      },
      targetEnded: () => this.targetGone(),
    };
  }

  /** The target's stream is over: the client gets every byte already read, then the close. */
  private targetEnded(relay: Relay, code: number, reason: string): void {
    this.ending = code === CloseCode.normal ? "target-end" : "target-reset";
    relay.discard();
    this.targetGone();
    this.close(code, reason, "target");
  }

  private fail(error: unknown): void {
    const state = this.state;
    const refusal =
      error instanceof Refusal
        ? error
        : error instanceof ProxyError
          ? Refusal.of(error)
          : undefined;
    if (state.kind === "closed") {
      // Nobody to tell: the client left while the target was being chosen or opened.
      if (refusal)
        this.context.logger.debug(
          `session ${this.id}: ${refusal.code}: ${clientText(refusal.message)}`,
        );
      else this.context.logger.error(`session ${this.id}: internal error after close:`, error);
      return;
    }
    if (state.kind === "proxying") {
      state.target.destroy();
      this.targetGone();
      this.ending = "client-reset";
    }
    // A bug, in any state: no status message may describe it; 1011 does.
    if (!refusal || state.kind === "proxying") {
      this.context.logger.error(
        `session ${this.id}: internal error, closing it with 1011:`,
        error,
        fields({ session: this.id, client: this.clientAddress, target: this.chosenTarget }),
      );
      this.close(CloseCode.internalError, CloseReason.internalError);
      return;
    }
    if (refusal.code === "unauthorized" || refusal.code === "forbidden") {
      this.context.logger.info(
        `session ${this.id} ${this.clientAddress}: ${refusal.code} ${this.targetLabel}: ${refusal.logReason}`,
        fields({
          session: this.id,
          client: this.clientAddress,
          protocol: this.chosenProtocol,
          target: this.chosenTarget,
          error: refusal.code,
          reason: refusal.logReason,
        }),
      );
    }
    this.context.logger.debug(
      `session ${this.id}: ${refusal.code}: ${clientText(refusal.message)}`,
    );
    this.errorCode = refusal.code;
    this.parts.status.failed(refusal);
    this.close(refusal.closeCode, refusal.code);
  }

  /** The target is closed, or will not be opened: the session may be done. */
  private targetGone(): void {
    this.holdsTarget = false;
    this.releaseIfDone();
  }

  /**
   * Counted against the principal's max_sessions until released; closed if a reload denies it. The
   * rule's max_lifetime and idle_timeout run beside the server's clocks, so the shorter one wins.
   */
  private holdLease(lease: Lease, relay: Relay): void {
    this.lease = lease;
    const { maxLifetime, idleTimeout } = lease.settings;
    if (maxLifetime) {
      const left = maxLifetime * 1000 - (performance.now() - this.startedAt);
      this.ruleClocks.push(
        lifetimeClock(Math.max(0, left) / 1000, () =>
          this.close(CloseCode.maxLifetime, CloseReason.maxLifetime),
        ),
      );
    }
    if (idleTimeout) {
      this.ruleClocks.push(
        idleClock(
          idleTimeout * 1000,
          () => relay.lastActivity,
          () => this.close(CloseCode.idleTimeout, CloseReason.idleTimeout),
        ),
      );
    }
    lease.onRevoke((reason) => {
      this.context.logger.info(
        `session ${this.id} ${this.clientAddress}: closed: the reloaded access rules deny it: ${reason}`,
      );
      this.close(CloseCode.forbidden, "the access rules no longer allow this target");
    });
  }

  private releaseIfDone(): void {
    if (this.wasReleased || this.holdsTarget || this.state.kind !== "closed") return;
    this.wasReleased = true;
    this.lease?.release();
    for (const hooks of this.hooks) hooks.released?.();
  }

  /** The client is gone: the target gets what was already received, then its end of stream. */
  private endTargetAfterFlush(relay: Relay, target: TargetConnection): void {
    relay.endTargetAfterFlush();
    if (relay.pendingToTarget > 0) {
      const guard = setTimeout(() => {
        if (relay.pendingToTarget > 0) {
          target.destroy();
          this.targetGone();
        }
      }, TARGET_FLUSH_GRACE_MS);
      guard.unref();
    }
  }

  private relayOf(state: SessionState): Relay | undefined {
    return state.kind === "connecting" || state.kind === "proxying" ? state.relay : undefined;
  }

  /** The relay's view of the client: silent once the client has gone, held while frozen. */
  private relayClient(): ClientSide {
    return {
      send: (chunk) =>
        this.state.kind !== "closed" ? this.client.sendBinary(chunk) : chunk.byteLength,
      bufferedAmount: () => this.bufferedToClient,
      pause: () => {
        if (this.state.kind === "closed") return;
        this.clientReadPaused = true;
        this.client.pause();
      },
      resume: () => {
        const state = this.state;
        if (state.kind === "connecting" || (state.kind === "proxying" && !state.frozen)) {
          this.clientReadPaused = false;
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

  private record(): SessionRecord {
    return {
      id: this.id,
      frontEnd: this.frontEnd,
      principal: this.principal.name,
      client: this.clientAddress,
      protocol: this.chosenProtocol,
      target: this.chosenTarget,
      bytesFromClient: this.bytesFromClient,
      bytesFromTarget: this.bytesFromTarget,
      durationMs: performance.now() - this.startedAt,
      closeCode: this.closeCode,
      closedBy: this.closedBy,
      closeReason: this.closeReason,
      error: this.errorCode,
      dropped: this.state.kind === "closed" ? this.state.dropped : undefined,
      how: this.ending,
    };
  }
}

function targetFailure(error: Error): string {
  const code = (error as { code?: string }).code;
  return code ? `${CloseReason.targetFailed}: ${code}` : CloseReason.targetFailed;
}
