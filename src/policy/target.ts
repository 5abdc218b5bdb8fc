import { parseAddress } from "../net/address.ts";
import { normaliseHostName } from "../net/host-name.ts";
import { ResolveError, type Resolver } from "../net/resolver.ts";
import type { Policy } from "./policy.ts";

export type TargetResolution =
  /**
   * Connect only to these addresses, in this order: each one was checked, normalised, and
   * listed once. A literal gives one; a name gives every address it resolved to.
   */
  | { readonly ok: true; readonly addresses: readonly string[] }
  | { readonly ok: false; readonly error: "forbidden" | "connect_failed"; readonly reason: string };

/**
 * Turns a handshake's `target_ip` (an IP literal or a host name) into the addresses to connect
 * to. A literal is decided at once (no promise). A name is checked before it is looked up,
 * resolved once, and every address it resolved to must pass, so that whichever one the
 * connection ends up using was checked.
 */
export function resolveTarget(
  policy: Policy,
  resolver: Resolver,
  target: string,
  port: number,
  /** The session's protocol, for rules that name one. */
  protocol?: string,
): TargetResolution | Promise<TargetResolution> {
  const literal = parseAddress(target);
  if (literal === null) return resolveName(policy, resolver, target, port, protocol);
  const decision = policy.check({ address: target, port, protocol });
  if (!decision.allowed) return { ok: false, error: "forbidden", reason: decision.reason };
  return { ok: true, addresses: [literal.toString()] };
}

async function resolveName(
  policy: Policy,
  resolver: Resolver,
  target: string,
  port: number,
  protocol: string | undefined,
): Promise<TargetResolution> {
  const host = normaliseHostName(target);
  if (host === null) {
    return { ok: false, error: "forbidden", reason: `"${target}" is not an address or host name` };
  }
  const early = policy.checkHost(host, port, protocol);
  if (!early.allowed) return { ok: false, error: "forbidden", reason: early.reason };

  let resolved: Awaited<ReturnType<Resolver>>;
  try {
    resolved = await resolver(host);
  } catch (error) {
    const reason = error instanceof ResolveError ? error.message : `could not resolve ${host}`;
    return { ok: false, error: "connect_failed", reason };
  }
  if (resolved.length === 0) {
    return { ok: false, error: "connect_failed", reason: `${host} resolved to no address` };
  }
  const decision = policy.checkAll(
    host,
    resolved.map((entry) => entry.address),
    port,
    protocol,
  );
  if (!decision.allowed) return { ok: false, error: "forbidden", reason: decision.reason };
  // checkAll parsed every address, so none of these is null.
  const addresses = resolved.map((entry) => parseAddress(entry.address)?.toString() ?? "");
  return { ok: true, addresses: [...new Set(addresses)] };
}
