import { createHash, timingSafeEqual } from "node:crypto";

export class TokenListError extends Error {
  override readonly name = "TokenListError";
}

/** A static token and the principal it names (`token:<first 8 hex of its SHA-256>` when unnamed). */
export interface NamedToken {
  readonly token: string;
  readonly name: string;
}

/**
 * Reads a token file: `TOKEN` (unnamed) or `NAME TOKEN` (two fields separated by white space) per
 * line; blank lines and lines starting with `#` are ignored, surrounding white space is trimmed.
 * Errors name the line, never the token.
 */
export function parseTokenFile(text: string, source = "token file"): NamedToken[] {
  const tokens: NamedToken[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const where = `${source} line ${index + 1}`;
    const parts = line.split(/\s+/);
    if (parts.length > 2) {
      throw new TokenListError(`${where}: expected TOKEN or NAME TOKEN (a token has no spaces)`);
    }
    const [first = "", second] = parts;
    const token = second ?? first;
    checkToken(token, where);
    if (second !== undefined) checkName(first, where);
    if (second !== undefined && first.startsWith(UNNAMED_PREFIX)) {
      throw new TokenListError(`${where}: a token's name may not begin with ${UNNAMED_PREFIX}`);
    }
    tokens.push({ token, name: second === undefined ? unnamedPrincipal(token) : first });
  });
  return tokens;
}

/** Reads SOCKET2WEB_AUTH_TOKENS: comma-separated, empty items ignored; each token unnamed. */
export function parseTokenList(
  value: string | undefined,
  source = "SOCKET2WEB_AUTH_TOKENS",
): NamedToken[] {
  if (value === undefined) return [];
  const tokens: NamedToken[] = [];
  value.split(",").forEach((item, index) => {
    const token = item.trim();
    if (token === "") return;
    checkToken(token, `${source} item ${index + 1}`);
    tokens.push({ token, name: unnamedPrincipal(token) });
  });
  return tokens;
}

/** How an unnamed token's principal begins; a name given in the file should not begin so. */
export const UNNAMED_PREFIX = "token:";

/** The principal of an unnamed token: its digest's first 8 hex digits name it without revealing it. */
export function unnamedPrincipal(token: string): string {
  return `${UNNAMED_PREFIX}${digest(token).toString("hex").slice(0, 8)}`;
}

function checkName(name: string, where: string): void {
  // Names appear in log lines and metric labels: printable ASCII keeps both readable.
  if (!/^[\x21-\x7e]{1,128}$/.test(name)) {
    throw new TokenListError(`${where}: a token's name may only contain visible ASCII (1 to 128)`);
  }
}

function checkToken(token: string, where: string): void {
  // Bearer tokens travel in a header: anything outside visible ASCII would never match.
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new TokenListError(`${where}: a token may only contain visible ASCII, without spaces`);
  }
}

export interface TokenSet {
  readonly size: number;
  /** Constant time in the token's content and in which token matched. */
  matches(presented: string): boolean;
  /** The matching token's principal name, or undefined; constant time as `matches`. */
  nameOf(presented: string): string | undefined;
}

/** Plain strings are unnamed tokens. A token given twice keeps its last name. */
export function createTokenSet(tokens: readonly (string | NamedToken)[]): TokenSet {
  const byToken = new Map<string, string>();
  for (const entry of tokens) {
    const named =
      typeof entry === "string" ? { token: entry, name: unnamedPrincipal(entry) } : entry;
    byToken.set(named.token, named.name);
  }
  // Comparing fixed-length digests keeps timingSafeEqual's equal-length rule from
  // leaking each token's length.
  const known = [...byToken].map(([token, name]) => ({ digest: digest(token), name }));
  const nameOf = (presented: string): string | undefined => {
    const candidate = digest(presented);
    let found: string | undefined;
    for (const entry of known) {
      // No early exit: every token is compared every time.
      if (timingSafeEqual(candidate, entry.digest)) found = entry.name;
    }
    return found;
  };
  return {
    size: known.length,
    matches: (presented) => nameOf(presented) !== undefined,
    nameOf,
  };
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}
