import { isIP } from "node:net";
import type { Endpoint } from "../adapters/types.ts";
import { ProxyError } from "../protocol/errors.ts";

export type Resolver = (host: string) => Promise<readonly { address: string; family: number }[]>;

/** Turns an endpoint into the checked addresses to connect to, in order; rejects with a ProxyError. */
export type ResolveTarget = (endpoint: Endpoint) => Promise<readonly string[]>;

export const systemResolver: Resolver = (host) => Bun.dns.lookup(host, {});

/** Resolves names once and applies `check` to every address before any connection is attempted. */
export function createTargetResolver(
  resolver: Resolver,
  check: (endpoint: Endpoint, addresses: readonly string[]) => void,
): ResolveTarget {
  return async (endpoint) => {
    let addresses: string[];
    if (isIP(endpoint.host)) {
      addresses = [endpoint.host];
    } else {
      try {
        addresses = [...new Set((await resolver(endpoint.host)).map((entry) => entry.address))];
      } catch (error) {
        const code = (error as { code?: string }).code ?? String(error);
        throw new ProxyError("connect_failed", `could not resolve ${endpoint.host}: ${code}`);
      }
      if (addresses.length === 0)
        throw new ProxyError("connect_failed", `${endpoint.host} has no address`);
    }
    check(endpoint, addresses);
    return addresses;
  };
}
