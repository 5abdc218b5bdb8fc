import { type AccessRules, singleUseRule } from "../auth/access-rules.ts";
import {
  type CredentialCheck,
  createCredentialCheck,
  type SingleUse,
} from "../auth/credentials.ts";
import { createJwksSource, JwksLoadError, type JwksSource } from "../auth/jwks-source.ts";
import { createOriginCheck, type OriginCheck, OriginPatternError } from "../auth/origin.ts";
import {
  createMemoryReplayGuard,
  DEFAULT_REPLAY_ENTRIES,
  type ReplayGuard,
} from "../auth/replay.ts";
import { createTicketVerifier, TicketConfigError, type TicketVerifier } from "../auth/tickets.ts";
import {
  createTokenSet,
  type NamedToken,
  parseTokenFile,
  parseTokenList,
  TokenListError,
  type TokenSet,
} from "../auth/tokens.ts";
import { createLogger } from "../log/logger.ts";
import { AddressRangeError, parseAddressRange } from "../net/address.ts";
import { type ClientAddressResolver, createClientAddressResolver } from "../net/client-address.ts";
import { createPolicy, type Policy, type PolicyRules } from "../policy/policy.ts";
import { PolicyRuleError, parseRule, type Rule } from "../policy/rule.ts";
import type { TlsFiles } from "../server/tls.ts";
import { stateCa, stateUrl } from "../state/open.ts";
import { redisReplayGuard } from "../state/redis-replay.ts";
import type { Origins } from "./load.ts";
import { readSmallFile } from "./read-file.ts";
import type { SettingKey, Settings } from "./settings.ts";
import { UsageError } from "./usage-error.ts";

/** The server's security pieces, built and checked from the settings before anything listens. */
export interface Security {
  readonly rules: PolicyRules;
  readonly policy: Policy;
  readonly origin: OriginCheck;
  readonly credentials: CredentialCheck;
  readonly clientAddress: ClientAddressResolver;
  readonly tls: TlsFiles | undefined;
  /** `--ticket-jwks`: it tells the server's log when a refresh fails. */
  readonly ticketKeys: JwksSource | undefined;
  /** For the start-up log line: what kind of credential is required, if any. */
  readonly authSummary: string;
  /** Bearer tokens of the sessions API (--admin-token-file); undefined: the API is off. */
  readonly adminTokens: TokenSet | undefined;
}

/**
 * Every problem is a UsageError naming the setting's source; secrets never appear in one.
 * `access`: the access file's rules as they are now (a reload replaces them), for its
 * `single_use_tickets`.
 */
export async function buildSecurity(
  settings: Settings,
  origins: Origins,
  access?: { readonly rules: AccessRules },
): Promise<Security> {
  const rules: PolicyRules = {
    allow: parseRules(settings.allow, origins.allow),
    deny: parseRules(settings.deny, origins.deny),
  };
  const tokens = await loadTokens(settings, origins);
  const jwks = await loadJwks(settings, origins);
  const tickets = await loadTickets(settings, origins, jwks);
  const credentials = createCredentialCheck({
    ...(tokens ? { tokens } : {}),
    ...(tickets ? { tickets } : {}),
    ...singleUseOf(settings, origins, tickets, access),
  });
  const summary = [
    tokens ? `${tokens.size} static token${tokens.size === 1 ? "" : "s"}` : "",
    tickets ? `tickets (${tickets.algorithms.join(", ")})` : "",
  ].filter(Boolean);
  return {
    rules,
    policy: createPolicy(rules),
    origin: originCheck(settings, origins),
    credentials,
    clientAddress: clientAddress(settings["trust-proxy"], origins["trust-proxy"].label),
    tls: tlsFiles(settings, origins),
    ticketKeys: jwks,
    authSummary: summary.length ? summary.join(" or ") : "none",
    adminTokens: await loadAdminTokens(settings, origins),
  };
}

/**
 * Which tickets are single use: every one with `--ticket-single-use`; else, with an access file,
 * those whose principal's rule (in the rules as reloaded) sets `single_use_tickets`. The guard
 * exists whenever the file is given, since a reload may add the key.
 */
function singleUseOf(
  settings: Settings,
  origins: Origins,
  tickets: TicketVerifier | undefined,
  access: { readonly rules: AccessRules } | undefined,
): { singleUse?: SingleUse } {
  if (singleUse(settings, origins, tickets)) {
    return { singleUse: { guard: replayGuard(settings), reason: () => "--ticket-single-use" } };
  }
  if (tickets === undefined || access === undefined) return {};
  return {
    singleUse: {
      guard: replayGuard(settings),
      reason: (principal) => singleUseRule(access.rules, principal),
    },
  };
}

/**
 * Used tickets remembered in this process, or by the fleet through `--state` (connected now, so
 * that the first ticket finds Redis ready rather than refused as if it were down).
 */
function replayGuard(settings: Settings): ReplayGuard {
  const state = settings.state;
  return state === undefined
    ? createMemoryReplayGuard({ maxEntries: DEFAULT_REPLAY_ENTRIES })
    : redisReplayGuard({
        url: stateUrl(state, settings["state-password-file"], settings["state-password"]),
        ca: stateCa(settings["state-ca"]),
        prefix: "socket2web",
        logger: createLogger(settings["log-level"], settings["log-format"]),
      });
}

/** Whether `--ticket-single-use` is on, and usable: tickets to use, one process to remember them. */
function singleUse(
  settings: Settings,
  origins: Origins,
  tickets: TicketVerifier | undefined,
): boolean {
  if (!settings["ticket-single-use"]) return false;
  const label = origins["ticket-single-use"].label;
  if (tickets === undefined) {
    throw new UsageError(
      `${label} needs tickets (--ticket-secret, --ticket-public-key or --ticket-jwks)`,
    );
  }
  // Each worker would remember its own tickets: one could be used once per worker. With --state
  // the fleet remembers them.
  if (settings.workers !== 1 && settings.state === undefined) {
    throw new UsageError(
      `${label} needs --workers 1, or --state: the used tickets are remembered in one process`,
    );
  }
  return true;
}

function parseRules(texts: readonly string[], origin: Origins[SettingKey]): Rule[] {
  const { label } = origin;
  return texts.map((text) => {
    try {
      return parseRule(text);
    } catch (error) {
      if (!(error instanceof PolicyRuleError)) throw error;
      // The environment splits on commas, so only a flag or a file value can hold several rules.
      const repeat =
        text.includes(",") && origin.source === "flag" ? ` (repeat ${label} for each rule)` : "";
      throw new UsageError(`${label}: ${error.message}${repeat}`);
    }
  });
}

function originCheck(settings: Settings, origins: Origins): OriginCheck {
  const label = origins["allow-origin"].label;
  for (const pattern of settings["allow-origin"]) {
    try {
      createOriginCheck({ allow: [pattern], require: false });
    } catch (error) {
      if (error instanceof OriginPatternError) throw new UsageError(`${label}: ${error.message}`);
      throw error;
    }
  }
  return createOriginCheck({
    allow: settings["allow-origin"],
    require: settings["require-origin"],
    // The console page's own origin, for its WebSockets (see createOriginCheck).
    sameOrigin: settings.console,
  });
}

function clientAddress(ranges: readonly string[], label: string): ClientAddressResolver {
  for (const range of ranges) {
    try {
      parseAddressRange(range);
    } catch (error) {
      if (error instanceof AddressRangeError) {
        throw new UsageError(`${label}: invalid range "${range}": ${error.message}`);
      }
      throw error;
    }
  }
  return createClientAddressResolver(ranges);
}

async function readText(path: string, label: string): Promise<string> {
  return readSmallFile(path, label);
}

async function loadTokens(settings: Settings, origins: Origins) {
  const tokens: NamedToken[] = [];
  try {
    const file = settings["auth-token-file"];
    if (file !== undefined) {
      const label = origins["auth-token-file"].label;
      const fromFile = parseTokenFile(await readText(file, label), `${label} file ${file}`);
      // An empty file would silently leave the proxy without authentication.
      if (fromFile.length === 0) throw new UsageError(`${label} file ${file} holds no token`);
      tokens.push(...fromFile);
    }
    const list = settings["auth-tokens"];
    if (list !== undefined) {
      const label = origins["auth-tokens"].label;
      const fromEnv = parseTokenList(list, label);
      if (fromEnv.length === 0) throw new UsageError(`${label} holds no token`);
      tokens.push(...fromEnv);
    }
  } catch (error) {
    if (error instanceof TokenListError) throw new UsageError(error.message);
    throw error;
  }
  return tokens.length > 0 ? createTokenSet(tokens) : undefined;
}

/** The sessions API's tokens: served only on --metrics-listen, never on the proxy's port. */
async function loadAdminTokens(
  settings: Settings,
  origins: Origins,
): Promise<TokenSet | undefined> {
  const file = settings["admin-token-file"];
  if (file === undefined) return undefined;
  const label = origins["admin-token-file"].label;
  if (settings["metrics-listen"] === undefined) {
    throw new UsageError(
      `${label} needs --metrics-listen ADDRESS:PORT: the sessions API is served only on that listener`,
    );
  }
  try {
    const tokens = parseTokenFile(await readText(file, label), `${label} file ${file}`);
    // An empty file would leave the API on with no way in: say so instead.
    if (tokens.length === 0) throw new UsageError(`${label} file ${file} holds no token`);
    return createTokenSet(tokens);
  } catch (error) {
    if (error instanceof TokenListError) throw new UsageError(error.message);
    throw error;
  }
}

async function loadTickets(
  settings: Settings,
  origins: Origins,
  jwks: JwksSource | undefined,
): Promise<TicketVerifier | undefined> {
  const inline = settings["ticket-secret"];
  const secretFile = settings["ticket-secret-file"];
  const keyFile = settings["ticket-public-key"];
  if (inline !== undefined && secretFile !== undefined) {
    throw new UsageError(
      `${origins["ticket-secret"].label} and ${origins["ticket-secret-file"].label} both give the ticket secret; give one`,
    );
  }
  let secret = inline;
  let secretLabel = origins["ticket-secret"].label;
  if (secretFile !== undefined) {
    secretLabel = origins["ticket-secret-file"].label;
    // Editors end files with a newline that is not part of the secret.
    secret = (await readText(secretFile, secretLabel)).replace(/\r?\n$/, "");
  }
  const keyLabel = origins["ticket-public-key"].label;
  const publicKeyPem = keyFile === undefined ? undefined : await readText(keyFile, keyLabel);
  const claimChecks = {
    ...(settings["ticket-issuer"] === undefined ? {} : { issuer: settings["ticket-issuer"] }),
    ...(settings["ticket-audience"] === undefined ? {} : { audience: settings["ticket-audience"] }),
  };
  if (secret === undefined && publicKeyPem === undefined && jwks === undefined) {
    for (const key of ["ticket-issuer", "ticket-audience"] as const) {
      if (settings[key] !== undefined) {
        throw new UsageError(
          `${origins[key].label} needs tickets (--ticket-secret, --ticket-public-key or --ticket-jwks)`,
        );
      }
    }
    return undefined;
  }
  try {
    if (secret !== undefined) await createTicketVerifier({ secret });
  } catch (error) {
    if (error instanceof TicketConfigError)
      throw new UsageError(`${secretLabel}: ${error.message}`);
    throw error;
  }
  try {
    return await createTicketVerifier({
      ...(secret === undefined ? {} : { secret }),
      ...(publicKeyPem === undefined ? {} : { publicKeyPem }),
      ...(jwks === undefined ? {} : { jwks }),
      ...claimChecks,
    });
  } catch (error) {
    if (error instanceof TicketConfigError) throw new UsageError(`${keyLabel}: ${error.message}`);
    throw error;
  }
}

async function loadJwks(settings: Settings, origins: Origins): Promise<JwksSource | undefined> {
  const location = settings["ticket-jwks"];
  if (location === undefined) return undefined;
  const label = origins["ticket-jwks"].label;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !/^https?:\/\//i.test(location)) {
    throw new UsageError(`${label} expects a file or an http(s) URL, got ${location}`);
  }
  try {
    return await createJwksSource({ location, label });
  } catch (error) {
    if (error instanceof JwksLoadError) throw new UsageError(error.message);
    throw error;
  }
}

function tlsFiles(settings: Settings, origins: Origins): TlsFiles | undefined {
  const certFile = settings["tls-cert"];
  const keyFile = settings["tls-key"];
  const caFile = settings["client-ca"];
  if (certFile === undefined && keyFile === undefined) {
    if (caFile !== undefined) {
      throw new UsageError(
        `${origins["client-ca"].label} needs --tls-cert and --tls-key: client certificates are asked for in wss's TLS handshake`,
      );
    }
    return undefined;
  }
  if (certFile === undefined || keyFile === undefined) {
    const missing = certFile === undefined ? "--tls-cert" : "--tls-key";
    const given = certFile === undefined ? origins["tls-key"].label : origins["tls-cert"].label;
    throw new UsageError(`${given} needs ${missing} too: TLS takes a certificate and its key`);
  }
  return {
    certFile,
    keyFile,
    certLabel: origins["tls-cert"].label,
    keyLabel: origins["tls-key"].label,
    ...(caFile === undefined ? {} : { caFile, caLabel: origins["client-ca"].label }),
  };
}
