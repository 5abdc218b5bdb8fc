import { createHash, timingSafeEqual } from "node:crypto";

export class TokenListError extends Error {
  override readonly name = "TokenListError";
}

/**
 * Reads a token file: one token per line; blank lines and lines starting with `#` are
 * ignored, surrounding white space is trimmed. Errors name the line, never the token.
 */
export function parseTokenFile(text: string, source = "token file"): string[] {
  const tokens: string[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const token = line.trim();
    if (token === "" || token.startsWith("#")) return;
    checkToken(token, `${source} line ${index + 1}`);
    tokens.push(token);
  });
  return tokens;
}

/** Reads SOCKET2WEB_AUTH_TOKENS: comma-separated, empty items ignored. */
export function parseTokenList(
  value: string | undefined,
  source = "SOCKET2WEB_AUTH_TOKENS",
): string[] {
  if (value === undefined) return [];
  const tokens: string[] = [];
  value.split(",").forEach((item, index) => {
    const token = item.trim();
    if (token === "") return;
    checkToken(token, `${source} item ${index + 1}`);
    tokens.push(token);
  });
  return tokens;
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
}

export function createTokenSet(tokens: readonly string[]): TokenSet {
  // Comparing fixed-length digests keeps timingSafeEqual's equal-length rule from
  // leaking each token's length.
  const digests = [...new Set(tokens)].map(digest);
  return {
    size: digests.length,
    matches(presented) {
      const candidate = digest(presented);
      let found = false;
      for (const known of digests) {
        // No early exit: every token is compared every time.
        found = timingSafeEqual(candidate, known) || found;
      }
      return found;
    },
  };
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}
