import type { FieldSpecs } from "./fields.ts";
import type { PathAllowList } from "./local-path.ts";

/**
 * The adapter contract. An adapter declares two kinds, and the rest of the proxy handles each kind
 * in exactly one place:
 *
 * - its **endpoint kind**: `network` (a host and port: the host is resolved once, every address is
 *   checked by the target policy, and `open` is given one checked address), or `path` (a local
 *   file path: made absolute and resolved, checked against the adapter's own allow-list, and `open`
 *   is given the resolved path);
 * - its **transport kind**: `stream` (bytes; chunk boundaries mean nothing, writes may be partial)
 *   or `messages` (each client message is one message to the target and back; never merged or
 *   split).
 */
export type EndpointKind = "network" | "path";
export type TransportKind = "stream" | "messages";

/** Where a network target lives: the policy checks it, the resolver turns `host` into addresses. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** A network target after resolution and the policy check: connect here and nowhere else. */
export interface NetworkLocation {
  readonly kind: "network";
  readonly address: string;
  readonly port: number;
}

/** A local path after resolution (absolute, no `..`, no symlinks) and the allow-list check. */
export interface PathLocation {
  readonly kind: "path";
  readonly path: string;
}

export type Location = NetworkLocation | PathLocation;

/** What the session hands an adapter's `open`: one checked location, and a way to give up. */
export interface OpenRequest<Target, Where extends Location = Location> {
  readonly target: Target;
  readonly location: Where;
  /** Aborted when the connect timeout fires or the client leaves; a late socket must then be destroyed. */
  readonly signal: AbortSignal;
  /**
   * Bytes the target gets first, before any client byte (and before TLS starts, for tls): a PROXY
   * protocol header. Only stream adapters are given one.
   */
  readonly preamble?: Uint8Array | undefined;
}

/** Events from the target, delivered to the relay. None is delivered before `open` resolves. */
export interface TargetEvents {
  /** A chunk of the stream, or exactly one message. */
  data(chunk: Uint8Array): void;
  /** The target can take more after a write that took less than offered. */
  drain(): void;
  /** End of stream from the target (stream transports only). */
  end(): void;
  /** The connection failed after it was open (reset, error, ICMP unreachable for datagrams). */
  error(error: Error): void;
}

/** An open target connection, with backpressure signals. */
export interface TargetConnection {
  /**
   * Offers a chunk and returns how much the target took now; the caller keeps the rest and offers
   * it again after `drain`. A `messages` transport takes a message whole or not at all: it returns
   * its full length, or -1 when it took nothing (0 would be ambiguous for an empty message).
   */
  write(chunk: Uint8Array): number;
  /** Stops reading from the target (the client is behind). A transport that cannot pause ignores it. */
  pause(): void;
  resume(): void;
  /** Ends the stream after what was written so far (a `messages` transport simply closes). */
  end(): void;
  /** Drops the connection now. */
  destroy(): void;
  /** `messages` transports: the largest message the target can take; a larger one closes with 1009. */
  readonly maxMessageBytes?: number;
}

interface AdapterCommon<Target> {
  /** The `protocol` value of a handshake; the greeting's key. */
  readonly name: string;
  /** Handshake fields, each with its description (the greeting lists them) and its validation. */
  readonly fields: FieldSpecs;
  readonly transport: TransportKind;
  /** Turns the handshake object into a typed target, or throws a ProxyError (`invalid_handshake`). */
  parse(handshake: Readonly<Record<string, unknown>>): Target;
}

export interface NetworkAdapter<Target> extends AdapterCommon<Target> {
  readonly endpoint: "network";
  /** The host and port to resolve and check. */
  locate(target: Target): HostPort;
  /** Opens the target at one checked address. Rejects with a ProxyError (`connect_failed`). */
  open(
    request: OpenRequest<Target, NetworkLocation>,
    events: TargetEvents,
  ): Promise<TargetConnection>;
}

export interface PathAdapter<Target> extends AdapterCommon<Target> {
  readonly endpoint: "path";
  /** The path as the client gave it, to resolve and check. */
  locate(target: Target): string;
  /** Where this adapter may connect; nothing outside it is ever opened. */
  readonly allowed: PathAllowList;
  /** Opens the target at the checked, resolved path. Rejects with a ProxyError (`connect_failed`). */
  open(request: OpenRequest<Target, PathLocation>, events: TargetEvents): Promise<TargetConnection>;
}

export type ProtocolAdapter<Target = unknown> = NetworkAdapter<Target> | PathAdapter<Target>;

/** Declares an adapter with its target type inferred. */
export function defineProtocol<Target>(adapter: NetworkAdapter<Target>): NetworkAdapter<Target>;
export function defineProtocol<Target>(adapter: PathAdapter<Target>): PathAdapter<Target>;
export function defineProtocol<Target>(adapter: ProtocolAdapter<Target>): ProtocolAdapter<Target> {
  return adapter;
}

/**
 * An adapter of any target type, for lists of adapters. Each adapter's own target type stays checked
 * inside it; the session only passes a target from an adapter's `parse` back to the same adapter.
 */
// biome-ignore lint/suspicious/noExplicitAny: target types differ per adapter and are contravariant in open().
export type AnyProtocolAdapter = ProtocolAdapter<any>;
