import type { HandshakeFieldDescriptions } from "../protocol/constants.ts";

/** Where a target lives on the network: the policy checks it, the resolver turns `host` into addresses. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** What the session hands an adapter's `open`: the checked address it must connect to, no other. */
export interface OpenRequest<Target> {
  readonly target: Target;
  readonly address: string;
  readonly port: number;
  /** Aborted when the connect timeout fires or the client leaves; a late socket must then be destroyed. */
  readonly signal: AbortSignal;
}

/** Events from the target, delivered to the relay. */
export interface TargetEvents {
  data(chunk: Uint8Array): void;
  /** The target can take more bytes after a short write. */
  drain(): void;
  /** End of stream from the target. */
  end(): void;
  /** The connection failed after it was open (reset, error). */
  error(error: Error): void;
}

/** An open target connection: a byte duplex with backpressure signals. */
export interface TargetConnection {
  /** Writes as much as the target takes now and returns that count; the caller keeps the rest. */
  write(chunk: Uint8Array): number;
  /** Stops reading from the target (the client is behind). */
  pause(): void;
  resume(): void;
  /** Ends the stream after what was written so far. */
  end(): void;
  /** Drops the connection now. */
  destroy(): void;
}

export interface ProtocolAdapter<Target = unknown> {
  readonly name: string;
  /** Handshake fields and their human descriptions, as the greeting lists them. */
  readonly fields: HandshakeFieldDescriptions;
  /** Turns the handshake object into a typed target, or throws a ProxyError (`invalid_handshake`). */
  parse(handshake: Readonly<Record<string, unknown>>): Target;
  /** The network endpoint of a target, for resolution and policy. */
  endpoint(target: Target): Endpoint;
  /** Opens the target. Rejects with a ProxyError (`connect_failed`). */
  open(request: OpenRequest<Target>, events: TargetEvents): Promise<TargetConnection>;
}

/** Declares an adapter with its target type inferred. */
export function defineProtocol<Target>(adapter: ProtocolAdapter<Target>): ProtocolAdapter<Target> {
  return adapter;
}

/**
 * An adapter of any target type, for lists of adapters. Each adapter's own target type stays checked
 * inside it; the session only passes a target from an adapter's `parse` back to the same adapter.
 */
// biome-ignore lint/suspicious/noExplicitAny: target types differ per adapter and are contravariant in open().
export type AnyProtocolAdapter = ProtocolAdapter<any>;
