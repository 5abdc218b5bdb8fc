/**
 * `reason` names the rule or class that decided, for the log. It reveals the server's
 * rules, so the server may prefer a generic text towards the client.
 */
export type Decision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: string };
