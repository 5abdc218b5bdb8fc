// Browser-safe: the capture writer and the console page use it too.

/** How the session ended, as the stream between client and target shows it. */
export type SessionEnd =
  /** The client closed: the proxy ended the target connection (FIN from the client side). */
  | "client-end"
  /** The target ended its stream (FIN from the target side). */
  | "target-end"
  /** The proxy dropped the target connection on the client's behalf (RST from the client side). */
  | "client-reset"
  /** The target reset or failed (RST from the target side). */
  | "target-reset";
