import type { FixedTarget } from "../../net/target-text.ts";
import type { TokenSource } from "./token-source.ts";

/** The targets an upgrade can name without a handshake: --route paths and --token-file tokens. */
export interface FixedTargets {
  readonly routes: ReadonlyMap<string, FixedTarget>;
  readonly tokens: TokenSource | undefined;
  /** Tickets are configured, so `?token=` may be a ticket naming its target. */
  readonly tickets: boolean;
}
