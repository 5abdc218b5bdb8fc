/**
 * Tickets and key sets made by an independent JWT implementation: Debian's PyJWT with
 * python3-cryptography (tests/setup/install-python-jwt.sh), so that `--ticket-jwks` is proved
 * against keys and signatures this project's `jose` did not make.
 */

const PYTHON = "/usr/bin/python3";

const SCRIPT = `
import json, sys
import jwt
from jwt.algorithms import RSAAlgorithm, ECAlgorithm, OKPAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa, ec, ed25519

request = json.load(sys.stdin)
private = {}
jwks = {}
for spec in request["keys"]:
    alg = spec["alg"]
    if alg == "RS256":
        key = rsa.generate_private_key(public_exponent=65537, key_size=spec.get("bits", 2048))
        jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    elif alg == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
        jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    elif alg == "EdDSA":
        key = ed25519.Ed25519PrivateKey.generate()
        jwk = json.loads(OKPAlgorithm.to_jwk(key.public_key()))
    else:
        raise SystemExit("unknown alg " + alg)
    jwk["kid"] = spec["kid"]
    jwk["use"] = "sig"
    jwk["alg"] = alg
    private[spec["kid"]] = (alg, key)
    jwks[spec["kid"]] = jwk
tokens = []
for spec in request["tokens"]:
    alg, key = private[spec["key"]]
    headers = {} if spec.get("noKid") else {"kid": spec.get("kid", spec["key"])}
    tokens.append(jwt.encode(spec["claims"], key, algorithm=alg, headers=headers))
json.dump({"jwks": jwks, "tokens": tokens}, sys.stdout)
`;

export type PyAlg = "RS256" | "ES256" | "EdDSA";

export interface PyKeySpec {
  readonly kid: string;
  readonly alg: PyAlg;
  /** RSA modulus size (default 2048). */
  readonly bits?: number;
}

export interface PyTokenSpec {
  /** The kid of the key that signs it. */
  readonly key: string;
  readonly claims: Record<string, unknown>;
  /** The `kid` header, when it should differ from `key`. */
  readonly kid?: string;
  /** No `kid` header at all. */
  readonly noKid?: boolean;
}

export interface PyMinted {
  /** Each public key as a JWK, by kid. */
  readonly jwks: Record<string, Record<string, unknown>>;
  readonly tokens: string[];
}

/** Why the PyJWT tests cannot run here, or undefined when they can. */
export function pyjwtMissing(): string | undefined {
  const probe = Bun.spawnSync([PYTHON, "-c", "import jwt, cryptography"], {
    stdout: "ignore",
    stderr: "ignore",
  });
  return probe.exitCode === 0
    ? undefined
    : `${PYTHON} cannot import jwt and cryptography: run tests/setup/install-python-jwt.sh`;
}

/** Makes fresh keys and the tickets they sign, in one run of PyJWT. */
export async function pyjwtMint(keys: PyKeySpec[], tokens: PyTokenSpec[]): Promise<PyMinted> {
  const proc = Bun.spawn([PYTHON, "-c", SCRIPT], {
    stdin: new TextEncoder().encode(JSON.stringify({ keys, tokens })),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`PyJWT failed (${code}): ${err}`);
  return JSON.parse(out) as PyMinted;
}

/** A JSON Web Key Set text of these keys. */
export function keySet(minted: PyMinted, ...kids: string[]): string {
  return JSON.stringify({ keys: kids.map((kid) => minted.jwks[kid]) });
}
