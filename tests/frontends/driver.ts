// What the front-end conformance suite needs to know about one front end (one way a client
// reaches a target through the proxy). A driver maps its wire signals to the shared types below,
// so that the suite's assertions are the same for every front end.
import type { RunningProxy } from "../helpers/proxy.ts";

/** The value of the `frontend` label and log field. */
export type FrontEndName = "socket2web" | "raw" | "wisp";

/**
 * How a session was refused or ended, as the client sees it: an HTTP status before the upgrade,
 * a WebSocket close code after it (for Socket2Web's own protocol: the code that follows the error
 * status), or a Wisp CLOSE reason on the session's stream.
 */
export type Signal =
  | { readonly http: number }
  | { readonly close: number }
  | { readonly wisp: number };

/** A session the proxy let through (it may still be closed at once, e.g. with 1013). */
export interface FrontEndSession {
  /** Sends bytes: part of the stream, or one datagram for udp. */
  send(data: Uint8Array): void;
  /** The next `count` bytes from the target (bounded). */
  read(count: number, timeoutMs?: number): Promise<Uint8Array>;
  /** The client ends the session. */
  close(): void;
  /** How the session ended, whoever ended it. */
  readonly closed: Promise<Signal>;
}

export type Outcome =
  | { readonly opened: true; readonly session: FrontEndSession }
  | { readonly opened: false; readonly signal: Signal };

export type Transport = "tcp" | "udp";

/** A loopback target of the configuration, by the name the driver may route it under. */
export interface TargetRef {
  readonly name: string;
  readonly port: number;
  readonly transport: Transport;
}

export interface OpenOptions {
  /** A token or ticket, carried the way this front end carries credentials; absent: none. */
  readonly credential?: string;
  /** The upgrade's Origin header. */
  readonly origin?: string;
}

/** What the proxy is given for a configuration, and where the driver may write files. */
export interface ConfigurationContext {
  readonly targets: readonly TargetRef[];
  /** A private temporary directory for this configuration (token files…). */
  readonly dir: string;
}

export interface FrontEndDriver {
  /** The variant's name in test titles. */
  readonly variant: string;
  readonly frontend: FrontEndName;
  /** Flags that turn this front end on and give it every target of the configuration. */
  args(context: ConfigurationContext): Promise<string[]>;
  /** Opens a session to `target`; resolves once the session is open or refused. */
  open(proxy: RunningProxy, target: TargetRef, options?: OpenOptions): Promise<Outcome>;
  /** The transports this front end carries (the suite's udp cases run only where udp is listed). */
  readonly transports: readonly Transport[];
  /** How each refusal or end shows on this front end. */
  readonly signals: {
    /** The policy or a ticket's claims refuse the target. */
    readonly forbidden: Signal;
    /** A credential is required and missing or wrong. */
    readonly unauthorized: Signal;
    /** `--idle-timeout` passed without a byte. */
    readonly idle: Signal;
    /** The target ended its stream. */
    readonly targetEnded: Signal;
    /** A udp message larger than the largest datagram (only where udp is carried). */
    readonly tooBig?: Signal;
  };
  /** Rate-limit tokens one session takes (a Wisp stream takes one beside its connection's). */
  readonly rateTokensPerSession?: number;
  /**
   * Credential forms the front end cannot express, each with the reason (the case is skipped):
   * `missing` (no credential at all), `staticToken` (a token from --auth-token-file), `origin`
   * (an Origin header: a client that cannot set upgrade headers).
   */
  readonly cannot?: {
    readonly missing?: string;
    readonly staticToken?: string;
    readonly origin?: string;
  };
  /** Claims every ticket for this front end must carry (a ticket that names its target). */
  ticketClaims?(target: TargetRef): Record<string, unknown>;
}
