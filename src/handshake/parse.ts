import type { AdapterRegistry } from "../adapters/registry.ts";
import type { ProtocolAdapter } from "../adapters/types.ts";
import { MAX_HANDSHAKE_BYTES } from "../protocol/constants.ts";
import { invalidHandshake, ProxyError } from "../protocol/errors.ts";

export interface Handshake {
  readonly adapter: ProtocolAdapter;
  readonly target: unknown;
  /** The fields the `connected` status repeats, as the client sent them. */
  readonly echo: Readonly<Record<string, unknown>>;
  /** An optional credential; checked by the auth layer, never logged. */
  readonly token: string | undefined;
}

/** Validates the client's first message into an adapter and a typed target. Throws ProxyError. */
export function parseHandshake(message: string | Uint8Array, registry: AdapterRegistry): Handshake {
  if (typeof message !== "string")
    throw invalidHandshake("the handshake must be a text frame, got a binary frame");
  // Each UTF-16 unit encodes to at most 3 UTF-8 bytes, so short strings skip the exact count.
  if (
    message.length * 3 > MAX_HANDSHAKE_BYTES &&
    Buffer.byteLength(message) > MAX_HANDSHAKE_BYTES
  ) {
    throw invalidHandshake(`the handshake exceeds ${MAX_HANDSHAKE_BYTES} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    throw invalidHandshake("the handshake is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidHandshake("the handshake must be a JSON object");
  }
  const handshake = value as Record<string, unknown>;
  const { protocol, token } = handshake;
  if (typeof protocol !== "string") throw invalidHandshake("protocol must be a string");
  const adapter = registry.get(protocol);
  if (!adapter) {
    throw new ProxyError(
      "unsupported_protocol",
      `protocol "${protocol}" is not supported; supported: ${registry.names().join(", ")}`,
    );
  }
  if (token !== undefined && typeof token !== "string")
    throw invalidHandshake("token must be a string");
  const target = adapter.parse(handshake);
  const echo: Record<string, unknown> = { protocol };
  for (const field of Object.keys(adapter.fields)) echo[field] = handshake[field];
  return { adapter, target, echo, token };
}
