import type { AdapterRegistry } from "../adapters/registry.ts";
import type { ProtocolAdapter, TargetEvents } from "../adapters/types.ts";
import type { Reached } from "../admission/admission.ts";
import { parseHandshake } from "../handshake/parse.ts";
import type { ProxyError } from "../protocol/errors.ts";

/** A target chosen for a session: the adapter, its typed target, and what the client presented. */
export interface Selection {
  readonly adapter: ProtocolAdapter;
  readonly target: unknown;
  /** The fields a `connected` status repeats, as the client sent them. */
  readonly echo: Readonly<Record<string, unknown>>;
  /** A credential presented with the choice (the handshake's `token`); never logged. */
  readonly token: string | undefined;
}

/**
 * How a session learns its target. The greeting/handshake exchange is one way; a target fixed
 * before the upgrade (parsed from the URL, or a route or token for a raw session) is another.
 */
export type TargetChooser =
  /** Greets, then takes the client's first message as the choice (within the handshake timeout). */
  | {
      readonly kind: "message";
      readonly greeting: string;
      /** Throws a ProxyError for a message that does not choose a valid target. */
      choose(message: string | Uint8Array): Selection;
    }
  /** The target was chosen before the session began: no greeting, no waiting. */
  | { readonly kind: "fixed"; readonly selection: Selection }
  /**
   * The target was chosen and opened before the session began (a raw session, so that a refusal
   * could still be an HTTP status): `attach` hands the connection's events to the session.
   */
  | {
      readonly kind: "reached";
      readonly selection: Selection;
      readonly reached: Reached;
      attach(events: TargetEvents): void;
    }
  /** The choice made before the session began is invalid (a URL-form handshake): report, close. */
  | { readonly kind: "refused"; readonly error: ProxyError };

/** Socket2Web's greeting and JSON handshake message (sections 2 and 3 of docs/protocol.md). */
export function handshakeChooser(registry: AdapterRegistry): TargetChooser {
  return {
    kind: "message",
    greeting: registry.greeting,
    choose: (message) => parseHandshake(message, registry),
  };
}
