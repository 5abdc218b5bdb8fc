import { parseAddress } from "../net/address.ts";
import { normaliseHostName } from "./host-name.ts";
import type { Policy } from "./policy.ts";
import { ResolveError, type Resolver } from "./resolver.ts";

export type TargetResolution =
  /** Connect to exactly this address: it is the one that was checked. */
  | { readonly ok: true; readonly address: string; readonly family: 4 | 6 }
  | { readonly ok: false; readonly error: "forbidden" | "connect_failed"; readonly reason: string };

/**
 * Turns a handshake's `target_ip` (an IP literal or a host name) into the one address to
 * connect to. A name is checked before it is looked up, resolved once, and every address it
 * resolved to must pass; the first is used, in its normalised form.
 */
export async function resolveTarget(
  policy: Policy,
  resolver: Resolver,
  target: string,
  port: number,
): Promise<TargetResolution> {
  const literal = parseAddress(target);
  if (literal !== null) {
    const decision = policy.check({ address: target, port });
    if (!decision.allowed) return { ok: false, error: "forbidden", reason: decision.reason };
    return { ok: true, address: literal.toString(), family: literal.kind() === "ipv4" ? 4 : 6 };
  }
  const host = normaliseHostName(target);
  if (host === null) {
    return { ok: false, error: "forbidden", reason: `"${target}" is not an address or host name` };
  }
  const early = policy.checkHost(host, port);
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
  );
  if (!decision.allowed) return { ok: false, error: "forbidden", reason: decision.reason };
  const first = parseAddress(resolved[0]?.address ?? "");
  if (first === null) return { ok: false, error: "forbidden", reason: "resolver returned no IP" };
  return { ok: true, address: first.toString(), family: first.kind() === "ipv4" ? 4 : 6 };
}
