import { isIP } from "node:net";

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

export class ResolveError extends Error {
  override readonly name = "ResolveError";
  constructor(
    readonly host: string,
    /** Without Bun's `DNS_` prefix: `ENOTFOUND`, `EAI_AGAIN`, … */
    readonly code: string,
  ) {
    super(`could not resolve ${host}: ${code}`);
  }
}

export const systemResolver: Resolver = async (host) => {
  let records: { address: string; family: number }[];
  try {
    records = await Bun.dns.lookup(host, {});
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new ResolveError(host, typeof code === "string" ? code.replace(/^DNS_/, "") : "EUNKNOWN");
  }
  return records.flatMap(({ address }) => {
    const family = isIP(address);
    return family === 4 || family === 6 ? [{ address, family }] : [];
  });
};

/**
 * A resolver over a fixed table, for tests. Names are matched like DNS does: without regard
 * to case and with or without a trailing dot.
 */
export function mapResolver(
  record: Readonly<Record<string, string | readonly string[]>>,
): Resolver {
  const table = new Map<string, ResolvedAddress[]>();
  for (const [name, value] of Object.entries(record)) {
    const addresses = typeof value === "string" ? [value] : value;
    table.set(
      dnsKey(name),
      addresses.map((address) => {
        const family = isIP(address);
        if (family !== 4 && family !== 6) throw new Error(`mapResolver: "${address}" is not an IP`);
        return { address, family };
      }),
    );
  }
  return async (host) => {
    const found = table.get(dnsKey(host));
    if (found === undefined) throw new ResolveError(host, "ENOTFOUND");
    return found.map((entry) => ({ ...entry }));
  };
}

function dnsKey(name: string): string {
  return (name.endsWith(".") ? name.slice(0, -1) : name).toLowerCase();
}

/**
 * A resolver that gives up after `seconds` with `ETIMEOUT`: a lookup that never answers must not
 * hold a session (and its slot under --max-connections) longer than a connect attempt would.
 */
export function boundedResolver(resolver: Resolver, seconds: number): Resolver {
  return (host) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ResolveError(host, "ETIMEOUT")), seconds * 1000);
    });
    return Promise.race([resolver(host), deadline]).finally(() => clearTimeout(timer));
  };
}
