import { type CryptoKey, importJWK, type JWK } from "jose";

/** The JWS algorithms a key set may verify, and the key type and curve each needs. */
const ALGORITHMS: Readonly<Record<string, { kty: string; crv?: string }>> = {
  RS256: { kty: "RSA" },
  ES256: { kty: "EC", crv: "P-256" },
  EdDSA: { kty: "OKP", crv: "Ed25519" },
  // The newer, fully specified name for the same algorithm.
  Ed25519: { kty: "OKP", crv: "Ed25519" },
};
export const JWKS_ALGORITHMS: readonly string[] = Object.keys(ALGORITHMS);

/** A key set holds at most this many keys; an identity provider publishes a handful. */
const MAX_KEYS = 100;
/** RFC 7518 section 3.3: RSA keys of at least 2048 bits. */
const MIN_RSA_BITS = 2048;

export class JwksError extends Error {
  override readonly name = "JwksError";
}

interface UsableKey {
  readonly jwk: JWK;
  /** The algorithms this key verifies: its `alg`, or every one its type allows. */
  readonly algorithms: readonly string[];
  readonly imported: Map<string, Promise<CryptoKey | Uint8Array>>;
}

/** A parsed key set: keys by `kid`. */
export interface KeySet {
  readonly size: number;
  has(kid: string): boolean;
  /** The key with this `kid` for this algorithm, or why there is none. */
  key(kid: string, alg: string): Promise<CryptoKey | Uint8Array | string>;
}

/**
 * Parses a JSON Web Key Set (RFC 7517). Keys that cannot verify tickets here (other types,
 * `use` other than `sig`, no `kid`) are skipped; a set with no usable key, private key material,
 * or two keys with one `kid` is an error, so a wrong file or URL fails loudly.
 */
export function parseKeySet(text: string): KeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new JwksError("is not JSON");
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new JwksError('is not a JSON Web Key Set (no "keys" list)');
  if (keys.length > MAX_KEYS) throw new JwksError(`holds more than ${MAX_KEYS} keys`);
  const byKid = new Map<string, UsableKey>();
  for (const raw of keys) {
    if (typeof raw !== "object" || raw === null)
      throw new JwksError("holds a key that is not an object");
    const jwk = raw as JWK;
    if (typeof jwk.d === "string") {
      throw new JwksError("holds a private key; publish only the public keys");
    }
    if (typeof jwk.kid !== "string" || jwk.kid === "") continue;
    if (jwk.use !== undefined && jwk.use !== "sig") continue;
    const algorithms = JWKS_ALGORITHMS.filter((alg) => fits(jwk, alg));
    if (algorithms.length === 0) continue;
    if (byKid.has(jwk.kid))
      throw new JwksError(`holds two keys with kid ${JSON.stringify(jwk.kid)}`);
    if (jwk.kty === "RSA" && modulusBits(jwk) < MIN_RSA_BITS) {
      throw new JwksError(
        `key ${JSON.stringify(jwk.kid)} is RSA with fewer than ${MIN_RSA_BITS} bits`,
      );
    }
    byKid.set(jwk.kid, { jwk, algorithms, imported: new Map() });
  }
  if (byKid.size === 0) {
    throw new JwksError(`holds no signing key with a kid for ${JWKS_ALGORITHMS.join(", ")}`);
  }
  return {
    size: byKid.size,
    has: (kid) => byKid.has(kid),
    async key(kid, alg) {
      const entry = byKid.get(kid);
      if (entry === undefined) return `no key with kid ${quote(kid)} in the key set`;
      if (!entry.algorithms.includes(alg)) {
        return `key ${quote(kid)} does not verify alg ${quote(alg)}`;
      }
      // One import per key and algorithm, shared by every ticket after it.
      let imported = entry.imported.get(alg);
      if (imported === undefined) {
        imported = importJWK({ ...entry.jwk, alg }, alg);
        entry.imported.set(alg, imported);
      }
      try {
        return await imported;
      } catch {
        return `key ${quote(kid)} could not be imported`;
      }
    },
  };
}

function fits(jwk: JWK, alg: string): boolean {
  const needs = ALGORITHMS[alg];
  if (needs === undefined || jwk.kty !== needs.kty) return false;
  if (needs.crv !== undefined && jwk.crv !== needs.crv) return false;
  if (jwk.alg === undefined) return true;
  return (
    jwk.alg === alg ||
    (jwk.alg === "EdDSA" && alg === "Ed25519") ||
    (jwk.alg === "Ed25519" && alg === "EdDSA")
  );
}

function modulusBits(jwk: JWK): number {
  if (typeof jwk.n !== "string") return 0;
  const bytes = Buffer.from(jwk.n, "base64url");
  let bits = bytes.length * 8;
  for (const byte of bytes) {
    if (byte !== 0) {
      bits -= Math.clz32(byte) - 24;
      break;
    }
    bits -= 8;
  }
  return bits;
}

/** Header values are attacker-controlled: quoted and kept short. */
function quote(text: string): string {
  return JSON.stringify(text.slice(0, 64));
}
