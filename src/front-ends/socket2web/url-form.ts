import type { AdapterRegistry } from "../../adapters/registry.ts";
import { parseHandshake } from "../../handshake/parse.ts";
import { invalidHandshake, ProxyError } from "../../protocol/errors.ts";
import type { TargetChooser } from "../../session/selection.ts";

/** A decimal integer as a query writes it: no sign, no leading zeros, no fraction or exponent. */
const DECIMAL_INTEGER = /^(0|[1-9][0-9]*)$/;

/**
 * The handshake carried in the upgrade URL (`?protocol=tcp&target_ip=…&target_port=…`): turned
 * into the JSON handshake it stands for and validated by the same parser, so both forms accept
 * and refuse exactly the same targets. Query values are strings; `target_port` becomes a number
 * only when it is the decimal form of an integer.
 */
export function urlFormChooser(query: URLSearchParams, registry: AdapterRegistry): TargetChooser {
  try {
    return {
      kind: "fixed",
      selection: parseHandshake(JSON.stringify(handshakeOf(query)), registry),
    };
  } catch (error) {
    if (error instanceof ProxyError) return { kind: "refused", error };
    throw error;
  }
}

function handshakeOf(query: URLSearchParams): Record<string, unknown> {
  const handshake: Record<string, unknown> = {};
  for (const [key, value] of query) {
    if (Object.hasOwn(handshake, key)) throw invalidHandshake(`${key} is given more than once`);
    handshake[key] = value;
  }
  const port = handshake.target_port;
  if (typeof port === "string") {
    if (!DECIMAL_INTEGER.test(port)) {
      throw invalidHandshake(
        `target_port must be the decimal form of an integer from 1 to 65535, got ${JSON.stringify(port.slice(0, 32))}`,
      );
    }
    handshake.target_port = Number(port);
  }
  return handshake;
}
