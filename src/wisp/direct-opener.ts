import type { ProtocolAdapter } from "../adapters/types.ts";
import { parseTargetHost } from "../handshake/address.ts";
import type { Policy } from "../policy/policy.ts";
import type { Resolver } from "../policy/resolver.ts";
import { ProxyError } from "../protocol/errors.ts";
import { checkedAddresses, type Grant } from "../session/access.ts";
import { connectWithin } from "../session/connect.ts";
import type { StreamOpener } from "./opener.ts";
import type { StreamKind } from "./packet.ts";

export interface DirectOpenerDeps {
  readonly policy: Policy;
  readonly resolver: Resolver;
  readonly grant: Grant;
  readonly connectTimeout: number;
  /** The adapter for each stream kind that is enabled. */
  readonly adapters: Partial<Record<StreamKind, ProtocolAdapter<{ host: string; port: number }>>>;
}

/**
 * Opens a stream's target with the handshake's own steps: the host is validated as a `target_ip`
 * is, resolved once, every address checked against the policy and the grant's pins, then connected
 * within the connect timeout, only at a checked address.
 */
export function directOpener(deps: DirectOpenerDeps): StreamOpener {
  return async ({ kind, host, port, signal, events }) => {
    const adapter = deps.adapters[kind];
    if (!adapter) throw new ProxyError("unsupported_protocol", `${kind} streams are not offered`);
    const parsed = parseTargetHost(host);
    const target = { host: parsed.kind === "ip" ? parsed.address : parsed.name, port };
    const addresses = await checkedAddresses(
      deps.policy,
      deps.resolver,
      deps.grant,
      adapter.name,
      target,
    );
    if (signal.aborted) throw new ProxyError("connect_failed", "stream closed before it opened");
    return connectWithin(deps.connectTimeout, addresses, (address, attempt) =>
      adapter.open({ target, address, port, signal: AbortSignal.any([signal, attempt]) }, events),
    );
  };
}
