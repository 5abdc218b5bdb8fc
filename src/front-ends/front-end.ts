import type { AdapterRegistry } from "../adapters/registry.ts";
import type { Admission, Entrant } from "../admission/admission.ts";
import type { Refusal } from "../admission/refusal.ts";
import type { Logger } from "../log/logger.ts";
import type { FrontEndName } from "../metrics/labels.ts";
import type { SessionClient } from "../session/client.ts";
import type { SessionHooks } from "../session/hooks.ts";
import type { TargetChooser } from "../session/selection.ts";
import type { Session, WispTag } from "../session/session.ts";
import type { StatusReporter } from "../session/status.ts";
import type { WispConnection } from "../wisp/connection.ts";
import type { CreditLimits } from "../wisp/credit.ts";
import type { OutboundHold } from "../wisp/outbound.ts";
import type { ClientSocket } from "./websocket-client.ts";

/** What the server knows of an upgrade that a front end's `accept` may use. */
export interface UpgradeContext {
  /** The subprotocol `subprotocol` chose (answered in the upgrade). */
  readonly subprotocol: string | undefined;
  /** Lifts the HTTP idle timer, for work that may take a connect timeout. */
  waitLonger(): void;
}

/** What an upgraded WebSocket's events reach: the front end's side of one connection. */
export interface Served {
  message(data: string | Uint8Array): void;
  drain(): void;
  pong(): void;
  closed(code: number, reason: string): void;
  /** A shutdown asks it to close with this code once what is queued has flushed. */
  close(code: number, reason: string): void;
}

/** What a front end decided before the upgrade: how it serves the WebSocket once it is open. */
export interface Plan {
  /** Runs inside the upgrade's `open`; the WebSocket is live. `id` names the connection in logs. */
  start(ws: ClientSocket, id: number): Served;
  /** The upgrade did not happen: close whatever was opened for it. */
  discard?(): void;
}

/** A session as a front end asks the server for one; the server adds its observers. */
export interface SessionRequest {
  readonly frontEnd: FrontEndName;
  readonly client: SessionClient;
  readonly chooser: TargetChooser;
  readonly status: StatusReporter;
  readonly entrant: Entrant;
  /** The id taken with `sessionId()` for it; default: the next one. */
  readonly id?: number;
  /** For logs, when it says more than the client's address (a Wisp stream). */
  readonly label?: string;
  /** A Wisp stream: its connection and stream id (the sessions API shows them). */
  readonly wisp?: WispTag;
  /** The front end's own observers (a Wisp stream's credit). */
  readonly hooks?: readonly SessionHooks[];
  /**
   * A stream on a shared connection (Wisp): no lifetime clock of its own, and the connection, not
   * the session, holds the admission slot.
   */
  readonly shared?: boolean;
}

/** The server's settings a front end may read. */
export interface FrontDoorSettings {
  /** Seconds; 0 disables. */
  readonly maxLifetime: number;
  readonly idleTimeout: number;
  /** The Wisp prefix (`--wisp`), undefined when Wisp is off. */
  readonly wisp: string | undefined;
  readonly wispMaxStreams: number;
  /** Seconds a client may stay silent before it is taken for dead (pings included). */
  readonly clientTimeout: number;
  readonly wispTuning: WispTuning;
}

/** What tests may change of Wisp: its credit, the wait for a password INFO, and a view of its connections. */
export interface WispTuning {
  readonly credit?: CreditLimits;
  readonly infoTimeoutMs?: number;
  /** Bytes queued towards a client past which it is not read. */
  readonly outbound?: OutboundHold;
  readonly connections?: Set<WispConnection>;
}

/** What every front end shares: admission, the adapters, and sessions with the server's observers. */
export interface FrontDoor {
  readonly admission: Admission;
  readonly registry: AdapterRegistry;
  readonly settings: FrontDoorSettings;
  readonly logger: Logger;
  /** A session (not started), counted and observed like every other. */
  session(request: SessionRequest): Session;
  /** Takes the next session id now, for a target opened before its session (a raw session). */
  sessionId(): number;
}

/**
 * A client protocol. It says only how it recognises its upgrades, how it learns the credential and
 * the target, and how it speaks to its client; admission, sessions, limits, capture, metrics and
 * logs are shared. The server asks each front end in turn to `claim` an upgrade.
 */
export interface FrontEnd<Claim> {
  readonly name: FrontEndName;
  /** The upgrade is this front end's: what its URL asks for; a Refusal when malformed (400). */
  claim(url: URL, door: FrontDoor): Claim | Refusal | undefined;
  /** The Sec-WebSocket-Protocol to answer with, or why the offer is refused (400). */
  subprotocol(claim: Claim, offered: string | null): string | undefined | Refusal;
  /** A credential the URL carries, which admission checks when no Authorization header brings one. */
  credential?(claim: Claim): string | undefined;
  /**
   * After admission, before the upgrade, while a refusal can still be an HTTP status: the plan for
   * the connection.
   */
  accept(
    claim: Claim,
    entrant: Entrant,
    door: FrontDoor,
    upgrade: UpgradeContext,
  ): Plan | Refusal | Promise<Plan | Refusal>;
}

// biome-ignore lint/suspicious/noExplicitAny: each front end's claim type is its own business.
export type AnyFrontEnd = FrontEnd<any>;

/** Declares a front end with its claim type inferred. */
export function defineFrontEnd<Claim>(frontEnd: FrontEnd<Claim>): FrontEnd<Claim> {
  return frontEnd;
}
