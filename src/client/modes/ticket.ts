import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { defineCommand } from "citty";
import { importPKCS8, SignJWT } from "jose";
import { adapterNames } from "../../adapters/index.ts";
import { closestName } from "../../config/closest.ts";
import { parseWholeNumber } from "../../config/numbers.ts";
import { UsageError } from "../../config/usage-error.ts";
import { PolicyRuleError, parseRule } from "../../policy/rule.ts";
import { assertKnownFlags } from "./known-flags.ts";
import { repeatedFlag } from "./repeated-flag.ts";

/** What a minted ticket says: the same claims the server's verifier reads (src/auth/tickets.ts). */
export interface TicketRequest {
  key: { alg: "HS256"; secret: Uint8Array } | { alg: "ES256" | "EdDSA"; pem: string };
  allow: string[];
  protocols: string[];
  ttlSeconds: number;
  subject: string | undefined;
}

/** As the server requires of an HS256 secret (RFC 7518 section 3.2). */
const MIN_SECRET_BYTES = 32;
const DEFAULT_TTL_SECONDS = 300;
/** A ticket cannot be revoked: one valid for more than a day is refused here. */
const MAX_TTL_SECONDS = 86_400;

export const TICKET_EXAMPLES = [
  "openssl rand -base64 48 > ticket-secret",
  "socket2web ticket --ticket-secret-file ticket-secret --allow 10.0.0.5:6379 --ttl 60",
  "socket2web ticket --private-key ticket-key.pem --allow '*.plc.local:502' --protocols tcp",
];

export const ticketArgs = {
  "ticket-secret-file": {
    type: "string",
    description: "Sign with the HS256 secret in this file, as the server's --ticket-secret-file",
    valueHint: "file",
  },
  "private-key": {
    type: "string",
    description: "Sign with this P-256 (ES256) or Ed25519 (EdDSA) private key, PEM",
    valueHint: "file",
  },
  allow: {
    type: "string",
    description: "Target rule the holder may reach, as --allow on the server (repeatable)",
    valueHint: "rule",
  },
  protocols: {
    type: "string",
    description: "Comma-separated protocols the holder may use, e.g. tcp",
    valueHint: "list",
  },
  ttl: {
    type: "string",
    description: `Seconds the ticket is valid (default ${DEFAULT_TTL_SECONDS}, at most ${MAX_TTL_SECONDS})`,
    valueHint: "seconds",
  },
  subject: {
    type: "string",
    description: "The ticket's sub claim, for your logs",
    valueHint: "text",
  },
} as const;

function readKeyFile(flag: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`--${flag} cannot read ${path}: ${(error as Error).message}`);
  }
}

export function toTicketRequest(
  args: Record<string, unknown>,
  rawArgs: readonly string[],
): TicketRequest {
  const secretFile = args["ticket-secret-file"];
  const keyFile = args["private-key"];
  if ((secretFile === undefined) === (keyFile === undefined)) {
    throw new UsageError("ticket needs exactly one of --ticket-secret-file and --private-key");
  }
  let key: TicketRequest["key"];
  if (typeof secretFile === "string" && secretFile !== "") {
    // As the server reads it: the file's last newline is not part of the secret.
    const text = readKeyFile("ticket-secret-file", secretFile).replace(/\r?\n$/, "");
    const secret = new TextEncoder().encode(text);
    if (secret.byteLength < MIN_SECRET_BYTES) {
      throw new UsageError(
        `--ticket-secret-file: the secret must be at least ${MIN_SECRET_BYTES} bytes (it has ${secret.byteLength}); make one with: openssl rand -base64 48`,
      );
    }
    key = { alg: "HS256", secret };
  } else if (typeof keyFile === "string" && keyFile !== "") {
    const pem = readKeyFile("private-key", keyFile);
    key = { alg: keyAlgorithm(pem), pem };
  } else {
    throw new UsageError(
      `--${secretFile === undefined ? "private-key" : "ticket-secret-file"} expects a file, got no value`,
    );
  }
  const allow = repeatedFlag(rawArgs, "allow");
  for (const rule of allow) {
    try {
      parseRule(rule);
    } catch (error) {
      if (error instanceof PolicyRuleError) {
        const repeat = rule.includes(",") ? " (repeat --allow for each rule)" : "";
        throw new UsageError(`--allow: ${error.message}${repeat}`);
      }
      throw error;
    }
  }
  const protocols =
    typeof args.protocols === "string" ? args.protocols.split(",").map((name) => name.trim()) : [];
  if (args.protocols !== undefined && (protocols.length === 0 || protocols.includes(""))) {
    throw new UsageError(
      `--protocols expects names separated by commas, e.g. tcp, got ${JSON.stringify(args.protocols ?? "")}`,
    );
  }
  for (const name of protocols) checkProtocolName(name);
  // `exp` is in whole seconds.
  const ttlSeconds = parseWholeNumber(
    "--ttl",
    args.ttl ?? String(DEFAULT_TTL_SECONDS),
    1,
    MAX_TTL_SECONDS,
  );
  const subject =
    typeof args.subject === "string" && args.subject !== "" ? args.subject : undefined;
  return { key, allow, protocols, ttlSeconds, subject };
}

/** A name no adapter has makes a ticket that every session refuses. */
function checkProtocolName(name: string): void {
  const names = adapterNames();
  if (names.includes(name)) return;
  const closest = closestName(name, names);
  throw new UsageError(
    `--protocols: no protocol is called ${JSON.stringify(name)}${closest ? ` (did you mean ${closest}?)` : ""}; the protocols are ${names.join(", ")}`,
  );
}

function keyAlgorithm(pem: string): "ES256" | "EdDSA" {
  let type: string | undefined;
  let curve: string | undefined;
  try {
    const key = createPrivateKey({ key: pem, format: "pem" });
    type = key.asymmetricKeyType;
    curve = key.asymmetricKeyDetails?.namedCurve;
  } catch {
    throw new UsageError("--private-key: not a PEM private key");
  }
  if (type === "ec" && curve === "prime256v1") return "ES256";
  if (type === "ed25519") return "EdDSA";
  throw new UsageError(
    `--private-key must be P-256 (ES256) or Ed25519 (EdDSA), not ${curve ?? type}`,
  );
}

/**
 * Signs the ticket: `exp` always (the server refuses tickets without it), a random `jti` (so it
 * works with `--ticket-single-use`), `allow` and `protocols` when given.
 */
export async function mintTicket(request: TicketRequest, now = new Date()): Promise<string> {
  const claims: Record<string, unknown> = {};
  if (request.allow.length > 0) claims.allow = request.allow;
  if (request.protocols.length > 0) claims.protocols = request.protocols;
  const issuedAt = Math.floor(now.getTime() / 1000);
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: request.key.alg, typ: "JWT" })
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + request.ttlSeconds)
    .setJti(crypto.randomUUID());
  if (request.subject !== undefined) jwt = jwt.setSubject(request.subject);
  const { key } = request;
  if (key.alg === "HS256") return jwt.sign(key.secret);
  // importPKCS8 wants PKCS#8; convert what openssl may have written as SEC1 ("EC PRIVATE KEY").
  const pkcs8 = createPrivateKey({ key: key.pem, format: "pem" })
    .export({ format: "pem", type: "pkcs8" })
    .toString();
  return jwt.sign(await importPKCS8(pkcs8, key.alg));
}

export const ticketCommand = defineCommand({
  meta: {
    name: "ticket",
    description:
      "Mint a signed ticket (JWT) that a server with the same secret or public key accepts",
  },
  args: ticketArgs,
  async run({ args, rawArgs }) {
    assertKnownFlags(rawArgs, ticketArgs);
    const request = toTicketRequest(args, rawArgs);
    process.stdout.write(`${await mintTicket(request)}\n`);
  },
});
