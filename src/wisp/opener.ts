import type { TargetConnection, TargetEvents } from "../adapters/types.ts";
import type { StreamKind } from "./packet.ts";

/** What a CONNECT asks for, with the events the opened target reports to. */
export interface StreamRequest {
  readonly kind: StreamKind;
  /** The host name or address as the client sent it; the opener validates and resolves it. */
  readonly host: string;
  readonly port: number;
  /** Aborted when the stream or its connection ends before the target opened. */
  readonly signal: AbortSignal;
  readonly events: TargetEvents;
}

/**
 * Opens a stream's target with exactly the checks a Socket2Web handshake gets (host validation,
 * resolution once, the policy on every address, ticket pins, limits, the connect timeout), or
 * rejects with the ProxyError a handshake would get; the connection maps it to a CLOSE reason.
 */
export type StreamOpener = (request: StreamRequest) => Promise<TargetConnection>;
