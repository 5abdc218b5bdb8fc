import { type CredentialCheck, createCredentialCheck } from "../auth/credentials.ts";
import { createOriginCheck, type OriginCheck, OriginPatternError } from "../auth/origin.ts";
import { createTicketVerifier, TicketConfigError, type TicketVerifier } from "../auth/tickets.ts";
import {
  createTokenSet,
  type NamedToken,
  parseTokenFile,
  parseTokenList,
  TokenListError,
} from "../auth/tokens.ts";
import { AddressRangeError, parseAddressRange } from "../net/address.ts";
import { type ClientAddressResolver, createClientAddressResolver } from "../net/client-address.ts";
import { createPolicy, type Policy, type PolicyRules } from "../policy/policy.ts";
import { PolicyRuleError, parseRule, type Rule } from "../policy/rule.ts";
import type { TlsFiles } from "../server/tls.ts";
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
  /** For the start-up log line: what kind of credential is required, if any. */
  readonly authSummary: string;
}

/** Every problem is a UsageError naming the setting's source; secrets never appear in one. */
export async function buildSecurity(settings: Settings, origins: Origins): Promise<Security> {
  const rules: PolicyRules = {
    allow: parseRules(settings.allow, origins.allow),
    deny: parseRules(settings.deny, origins.deny),
  };
  const tokens = await loadTokens(settings, origins);
  const tickets = await loadTickets(settings, origins);
  const credentials = createCredentialCheck({
    ...(tokens ? { tokens } : {}),
    ...(tickets ? { tickets } : {}),
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
    authSummary: summary.length ? summary.join(" or ") : "none",
  };
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

async function loadTickets(
  settings: Settings,
  origins: Origins,
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
  if (secret === undefined && publicKeyPem === undefined) return undefined;
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
    });
  } catch (error) {
    if (error instanceof TicketConfigError) throw new UsageError(`${keyLabel}: ${error.message}`);
    throw error;
  }
}

function tlsFiles(settings: Settings, origins: Origins): TlsFiles | undefined {
  const certFile = settings["tls-cert"];
  const keyFile = settings["tls-key"];
  if (certFile === undefined && keyFile === undefined) return undefined;
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
  };
}
