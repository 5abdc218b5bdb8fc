import type { AnyProtocolAdapter, HostPort, Location, PathAdapter } from "../adapters/types.ts";
import { type CredentialCheck, type Grant, protocolAllowed } from "../auth/credentials.ts";
import type { TicketPins } from "../auth/tickets.ts";
import { formatHostPort } from "../net/host-port.ts";
import type { Resolver } from "../net/resolver.ts";
import type { Policy } from "../policy/policy.ts";
import { resolveTarget, type TargetResolution } from "../policy/target.ts";
import { ProxyError } from "../protocol/errors.ts";

/** A refusal whose `logReason` may name rules or ticket failures, never the credential. */
export class AccessDenied extends ProxyError {
  constructor(
    code: "unauthorized" | "forbidden",
    clientReason: string,
    readonly logReason: string,
  ) {
    super(code, clientReason);
  }
}

/**
 * The session's credential: the one the upgrade's Authorization header already proved (returned
 * as it is, no promise), else the handshake's `token`. A header credential makes the handshake's
 * unnecessary (and it is ignored).
 */
export function grantFor(
  credentials: CredentialCheck,
  fromHeader: Grant | undefined,
  token: string | undefined,
): Grant | Promise<Grant> {
  return fromHeader ?? tokenGrant(credentials, token);
}

async function tokenGrant(credentials: CredentialCheck, token: string | undefined): Promise<Grant> {
  const result = await credentials.check(token);
  // The client hears the failure's class; the precise reason goes to the log only.
  if (!result.ok) throw new AccessDenied("unauthorized", result.clientReason, result.reason);
  return result;
}

function pinsOf(grant: Grant): TicketPins | undefined {
  return grant.kind === "ticket" ? grant.pins : undefined;
}

/**
 * The addresses this grant may connect to for `endpoint`, each one checked against the server's
 * policy intersected with the ticket's pins. Resolves a name once; nothing is connected here. An
 * IP literal is decided at once: no promise, and a refusal is thrown.
 */
export function checkedAddresses(
  policy: Policy,
  resolver: Resolver,
  grant: Grant,
  protocol: string,
  endpoint: HostPort,
): readonly string[] | Promise<readonly string[]> {
  const pins = pinsOf(grant);
  const where = formatHostPort(endpoint.host, endpoint.port);
  if (!protocolAllowed(pins, protocol)) {
    throw new AccessDenied(
      "forbidden",
      `protocol ${protocol} is not allowed for this credential`,
      `the ticket's protocols claim does not include ${protocol}`,
    );
  }
  const effective = pins?.allow ? policy.intersect(pins.allow) : policy;
  const resolution = resolveTarget(effective, resolver, endpoint.host, endpoint.port, protocol);
  return resolution instanceof Promise
    ? resolution.then((result) => addressesOf(result, where))
    : addressesOf(resolution, where);
}

function addressesOf(result: TargetResolution, where: string): readonly string[] {
  if (result.ok) return result.addresses;
  if (result.error === "forbidden") {
    throw new AccessDenied("forbidden", `${where} is not allowed`, result.reason);
  }
  throw new ProxyError("connect_failed", result.reason);
}

/**
 * Where a target may be opened, by the adapter's endpoint kind: every checked address of a network
 * target (the policy; an IP literal at once, as checkedAddresses), or the resolved path of a local
 * one (the adapter's own allow-list). A ticket's `allow` rules name network targets only, so a
 * ticket that has them opens no path.
 */
export function checkedLocations(
  policy: Policy,
  resolver: Resolver,
  grant: Grant,
  adapter: AnyProtocolAdapter,
  target: unknown,
): readonly Location[] | Promise<readonly Location[]> {
  if (adapter.endpoint !== "network") return checkedPath(grant, adapter, target);
  const endpoint = adapter.locate(target);
  const located = (addresses: readonly string[]): readonly Location[] =>
    addresses.map((address) => ({ kind: "network", address, port: endpoint.port }));
  const checking = checkedAddresses(policy, resolver, grant, adapter.name, endpoint);
  return checking instanceof Promise ? checking.then(located) : located(checking);
}

async function checkedPath(
  grant: Grant,
  adapter: PathAdapter<unknown>,
  target: unknown,
): Promise<readonly Location[]> {
  const path = adapter.locate(target);
  const pins = pinsOf(grant);
  if (!protocolAllowed(pins, adapter.name) || pins?.allow) {
    throw new AccessDenied(
      "forbidden",
      `protocol ${adapter.name} is not allowed for this credential`,
      `the ticket's protocols or allow claims exclude ${adapter.name}`,
    );
  }
  const result = await adapter.allowed.check(path);
  if (result.ok) return [{ kind: "path", path: result.path }];
  if (result.error === "forbidden") {
    throw new AccessDenied("forbidden", `${path} is not allowed`, result.reason);
  }
  throw new ProxyError("connect_failed", result.reason);
}

/** How logs name a target: `10.0.0.5:502`, `[::1]:53` or a socket path. */
export function describeTarget(adapter: AnyProtocolAdapter, target: unknown): string {
  if (adapter.endpoint === "path") return adapter.locate(target);
  const { host, port } = adapter.locate(target);
  return formatHostPort(host, port);
}
