/** Where a session's identity came from. */
export type PrincipalSource =
  /** No credential is configured. */
  | "anonymous"
  /** A static token (`--auth-token-file`). */
  | "token"
  /** A ticket's `sub` (and `iss`). */
  | "ticket"
  /** The user name of Wisp 2's password extension. */
  | "wisp"
  /** A websockify token-file entry's name. */
  | "token-file"
  /** The identity header a trusted front proxy set (`--identity-header`). */
  | "header";

/** Who a session belongs to: shown in its log line, matched by access rules, counted in metrics. */
export interface Principal {
  readonly name: string;
  readonly source: PrincipalSource;
  /** Claims access rules may test (a ticket's `groups`, …). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

export const ANONYMOUS: Principal = { name: "anonymous", source: "anonymous" };
