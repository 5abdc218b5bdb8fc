import { createPublicKey } from "node:crypto";
import {
  type CryptoKey,
  decodeProtectedHeader,
  errors,
  importSPKI,
  type JWTPayload,
  jwtVerify,
} from "jose";
import { formatHostPort } from "../net/host-port.ts";
import {
  PROXY_PROTOCOL_SETTINGS,
  type ProxyProtocolSetting,
  proxyProtocolSetting,
} from "../net/proxy-protocol.ts";
import { parseTargetHost, type TargetHost } from "../net/target-host.ts";
import { PolicyRuleError, parseRule, type Rule } from "../policy/rule.ts";
import { JWKS_ALGORITHMS } from "./jwks.ts";
import type { JwksSource } from "./jwks-source.ts";

/** What a ticket narrows; an absent field narrows nothing. */
export interface TicketPins {
  readonly allow?: readonly Rule[];
  readonly protocols?: readonly string[];
  /**
   * The one target named by `host` and `port` claims (as websockify's JWT token plugin reads
   * them): where a raw session with this ticket in `?token=` goes. Without an `allow` claim the
   * ticket is also pinned to it for every other session.
   */
  readonly target?: { readonly host: string; readonly port: number };
  /**
   * The `proxy_protocol` claim (`v1`, `v2` or `off`): a PROXY protocol header before the client's
   * bytes on every target this ticket reaches, whatever the server default.
   */
  readonly proxyProtocol?: ProxyProtocolSetting;
}

export type TicketFailure =
  | "malformed"
  | "unsupported_alg"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "wrong_audience"
  | "wrong_issuer"
  | "invalid_claims"
  /** `--ticket-jwks`: no key in the set has the ticket's `kid` (or it has none). */
  | "unknown_key";

export type TicketResult =
  | {
      readonly ok: true;
      readonly pins: TicketPins;
      /** Every claim of the verified payload (`sub`, `jti`, `exp`, `groups`, …). */
      readonly claims: Readonly<JWTPayload>;
    }
  | { readonly ok: false; readonly failure: TicketFailure; readonly reason: string };

export interface TicketVerifier {
  /** The JWS `alg` values accepted, e.g. `["HS256", "ES256"]`. */
  readonly algorithms: readonly string[];
  verify(ticket: string): Promise<TicketResult>;
}

export interface TicketOptions {
  /** HS256 key; at least 32 bytes, as RFC 7518 section 3.2 requires. */
  readonly secret?: string | Uint8Array;
  /** SPKI PEM of a P-256 (ES256) or Ed25519 (EdDSA) public key. */
  readonly publicKeyPem?: string;
  /** A JSON Web Key Set: RS256, ES256 and EdDSA tickets name their key by `kid`. */
  readonly jwks?: JwksSource;
  /**
   * Tickets without `exp` never stop working and cannot be revoked, so they are refused
   * unless this is false.
   */
  readonly requireExpiry?: boolean;
  readonly clockToleranceSeconds?: number;
  readonly issuer?: string;
  readonly audience?: string;
  /** For tests. */
  readonly now?: () => Date;
}

export class TicketConfigError extends Error {
  override readonly name = "TicketConfigError";
}

const MIN_SECRET_BYTES = 32;
/** Bounds the work a single ticket can ask for. */
const MAX_PINNED_RULES = 256;

type KeyFor = { algorithms: readonly string[]; key: CryptoKey | Uint8Array };

export async function createTicketVerifier(options: TicketOptions): Promise<TicketVerifier> {
  const keys: KeyFor[] = [];
  if (options.secret !== undefined) keys.push(secretKey(options.secret));
  if (options.publicKeyPem !== undefined) keys.push(await publicKey(options.publicKeyPem));
  const { jwks } = options;
  if (keys.length === 0 && jwks === undefined) {
    throw new TicketConfigError("tickets need a secret, a public key or a key set");
  }
  const algorithms = [
    ...new Set([...keys.flatMap((k) => k.algorithms), ...(jwks ? JWKS_ALGORITHMS : [])]),
  ];
  const now = options.now ?? (() => new Date());

  return {
    algorithms,
    async verify(ticket) {
      let alg: unknown;
      let kid: unknown;
      try {
        ({ alg, kid } = decodeProtectedHeader(ticket));
      } catch {
        return fail("malformed", "not a signed JWT");
      }
      if (typeof alg !== "string" || !algorithms.includes(alg)) {
        return fail("unsupported_alg", `alg ${describeAlg(alg)} is not accepted`);
      }
      const key = await keyFor(keys, jwks, alg, kid);
      if (typeof key === "string") return fail("unknown_key", key);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(ticket, key, {
          algorithms: [alg],
          currentDate: now(),
          clockTolerance: options.clockToleranceSeconds ?? 0,
          requiredClaims: options.requireExpiry === false ? [] : ["exp"],
          ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
          ...(options.audience === undefined ? {} : { audience: options.audience }),
        }));
      } catch (error) {
        return classify(error);
      }
      const pins = readPins(payload);
      return pins.ok ? { ok: true, pins: pins.pins, claims: payload } : pins;
    },
  };
}

/**
 * A ticket with a `kid` is verified by that key of the key set (when there is one); otherwise
 * its `alg` picks the configured secret or public key.
 */
async function keyFor(
  keys: readonly KeyFor[],
  jwks: JwksSource | undefined,
  alg: string,
  kid: unknown,
): Promise<CryptoKey | Uint8Array | string> {
  const fixed = keys.find((k) => k.algorithms.includes(alg));
  if (jwks !== undefined && JWKS_ALGORITHMS.includes(alg) && (kid !== undefined || !fixed)) {
    if (typeof kid !== "string" || kid === "") return "the ticket names no key (kid)";
    return jwks.key(kid, alg);
  }
  // `algorithms` holds only the configured keys' algorithms and the key set's.
  return (fixed as KeyFor).key;
}

function secretKey(secret: string | Uint8Array): KeyFor {
  const key = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
  if (key.byteLength < MIN_SECRET_BYTES) {
    throw new TicketConfigError(
      `the ticket secret must be at least ${MIN_SECRET_BYTES} bytes (it has ${key.byteLength})`,
    );
  }
  return { algorithms: ["HS256"], key };
}

async function publicKey(pem: string): Promise<KeyFor> {
  if (/PRIVATE KEY/.test(pem)) {
    throw new TicketConfigError(
      "the ticket public key file holds a private key; give the public key",
    );
  }
  let type: string | undefined;
  let curve: string | undefined;
  try {
    const parsed = createPublicKey({ key: pem, format: "pem" });
    type = parsed.asymmetricKeyType;
    curve = parsed.asymmetricKeyDetails?.namedCurve;
  } catch {
    throw new TicketConfigError("the ticket public key is not a PEM public key");
  }
  if (type === "ec" && curve === "prime256v1") {
    return { algorithms: ["ES256"], key: await importSPKI(pem, "ES256") };
  }
  if (type === "ed25519") {
    // "Ed25519" is the newer, fully specified name for the same JWS algorithm.
    return { algorithms: ["EdDSA", "Ed25519"], key: await importSPKI(pem, "EdDSA") };
  }
  throw new TicketConfigError(
    `the ticket public key must be P-256 (ES256) or Ed25519 (EdDSA), not ${curve ?? type ?? "unknown"}`,
  );
}

function describeAlg(alg: unknown): string {
  // The header is attacker-controlled: quote it and keep it short.
  return typeof alg === "string" ? JSON.stringify(alg.slice(0, 32)) : "(missing)";
}

function classify(error: unknown): TicketResult {
  if (error instanceof errors.JWTExpired) return fail("expired", "the ticket has expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "nbf") return fail("not_yet_valid", "the ticket is not valid yet");
    if (error.claim === "aud") {
      return fail("wrong_audience", `claim aud failed: ${error.reason}`);
    }
    if (error.claim === "iss") return fail("wrong_issuer", `claim iss failed: ${error.reason}`);
    return fail("invalid_claims", `claim ${error.claim} failed: ${error.reason}`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return fail("bad_signature", "the ticket's signature does not verify");
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return fail("unsupported_alg", "the ticket's algorithm is not accepted");
  }
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) {
    return fail("malformed", "the ticket is malformed");
  }
  return fail("malformed", "the ticket could not be verified");
}

type PinsResult =
  | { readonly ok: true; readonly pins: TicketPins }
  | { readonly ok: false; readonly failure: TicketFailure; readonly reason: string };

function fail(
  failure: TicketFailure,
  reason: string,
): { ok: false; failure: TicketFailure; reason: string } {
  return { ok: false, failure, reason };
}

function readPins(payload: JWTPayload): PinsResult {
  const pins: {
    allow?: Rule[];
    protocols?: string[];
    target?: { host: string; port: number };
    proxyProtocol?: ProxyProtocolSetting;
  } = {};
  if (payload.host !== undefined || payload.port !== undefined) {
    const target = readTarget(payload.host, payload.port);
    if (typeof target === "string") return fail("invalid_claims", target);
    pins.target = target;
    if (payload.allow === undefined) {
      try {
        pins.allow = [parseRule(formatHostPort(target.host, target.port))];
      } catch (error) {
        if (error instanceof PolicyRuleError)
          return fail("invalid_claims", `claims host and port: ${error.message}`);
        throw error;
      }
    }
  }
  if (payload.allow !== undefined) {
    const { allow } = payload;
    if (!isStringArray(allow) || allow.length > MAX_PINNED_RULES) {
      return fail(
        "invalid_claims",
        `claim allow must be a list of at most ${MAX_PINNED_RULES} rules`,
      );
    }
    try {
      pins.allow = allow.map(parseRule);
    } catch (error) {
      if (error instanceof PolicyRuleError)
        return fail("invalid_claims", `claim allow: ${error.message}`);
      throw error;
    }
  }
  if (payload.protocols !== undefined) {
    const { protocols } = payload;
    if (!isStringArray(protocols) || protocols.some((name) => name === "")) {
      return fail("invalid_claims", "claim protocols must be a list of adapter names");
    }
    pins.protocols = [...protocols];
  }
  if (payload.proxy_protocol !== undefined) {
    const setting =
      typeof payload.proxy_protocol === "string"
        ? proxyProtocolSetting(payload.proxy_protocol)
        : undefined;
    if (setting === undefined) {
      return fail(
        "invalid_claims",
        `claim proxy_protocol must be one of ${PROXY_PROTOCOL_SETTINGS.join(", ")}`,
      );
    }
    pins.proxyProtocol = setting;
  }
  return { ok: true, pins };
}

const PORT_CLAIM = /^[1-9][0-9]{0,4}$/;

/** `host` (an IP literal or a host name) and `port` (a number, or its decimal text): both or neither. */
function readTarget(host: unknown, port: unknown): { host: string; port: number } | string {
  if (typeof host !== "string" || host === "")
    return "claim host must be a host name or IP address";
  const portNumber = typeof port === "string" && PORT_CLAIM.test(port) ? Number(port) : port;
  if (
    typeof portNumber !== "number" ||
    !Number.isInteger(portNumber) ||
    portNumber < 1 ||
    portNumber > 65535
  ) {
    return "claim port must be an integer from 1 to 65535";
  }
  let parsed: TargetHost;
  try {
    parsed = parseTargetHost(host);
  } catch {
    return "claim host must be a host name or IP address";
  }
  return { host: parsed.kind === "ip" ? parsed.address : parsed.name, port: portNumber };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}
