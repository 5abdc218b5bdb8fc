import type { FixedTarget } from "./target-text.ts";
import type { TokenSource } from "./token-source.ts";

/** The targets an upgrade can name without a handshake: --route paths and --token-file tokens. */
export interface FixedTargets {
  readonly routes: ReadonlyMap<string, FixedTarget>;
  readonly tokens: TokenSource | undefined;
  /** Tickets are configured, so `?token=` may be a ticket naming its target. */
  readonly tickets: boolean;
}

/** What an upgrade asks for, read from its URL alone. */
export type UpgradeKind =
  /** Greeting, then the handshake message. */
  | { readonly kind: "handshake" }
  /** The handshake is in the query (`protocol` is present). */
  | { readonly kind: "url"; readonly query: URLSearchParams }
  /** websockify-style: the server fixes the target; bytes flow from the upgrade on. */
  | {
      readonly kind: "raw";
      readonly via: "route";
      readonly path: string;
      readonly target: FixedTarget;
      /** A credential in `?token=` (browsers cannot send Authorization). */
      readonly token: string | undefined;
    }
  | { readonly kind: "raw"; readonly via: "token"; readonly token: string };

export function upgradeKind(url: URL, targets: FixedTargets): UpgradeKind {
  const query = url.searchParams;
  // A `protocol` parameter makes it the URL form, even with a `token` (its credential).
  if (query.has("protocol")) return { kind: "url", query };
  const token = query.get("token") ?? undefined;
  const target = targets.routes.get(url.pathname);
  if (target) return { kind: "raw", via: "route", path: url.pathname, target, token };
  if (token !== undefined && (targets.tokens !== undefined || targets.tickets)) {
    return { kind: "raw", via: "token", token };
  }
  return { kind: "handshake" };
}
