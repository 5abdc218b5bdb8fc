import { type FixedTarget, parseTargetText } from "../../net/target-text.ts";

/** What one token file holds: its targets, and a sentence for each line that was skipped. */
export interface ParsedTokenFile {
  readonly targets: ReadonlyMap<string, FixedTarget>;
  /** `FILE:LINE: what is wrong`, never the line's token. */
  readonly problems: readonly string[];
}

/**
 * websockify's TokenFile format: `TOKEN: HOST:PORT` per line, `#` comments and blank lines
 * ignored, white space around each part allowed. A malformed line is reported and skipped, so
 * one typo does not take every other target down with it.
 */
export function parseTokenFileText(text: string, fileName: string): ParsedTokenFile {
  const targets = new Map<string, FixedTarget>();
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const where = `${fileName}:${index + 1}`;
    const colon = line.indexOf(":");
    if (colon < 0) {
      problems.push(`${where}: expected TOKEN: HOST:PORT`);
      return;
    }
    const token = line.slice(0, colon).trim();
    if (token === "" || !/^[\x21-\x7e]+$/.test(token)) {
      problems.push(`${where}: the token must be visible ASCII without spaces`);
      return;
    }
    const target = parseTargetText(line.slice(colon + 1));
    if (typeof target === "string") {
      problems.push(`${where}: ${target}`);
      return;
    }
    if (targets.has(token)) problems.push(`${where}: a token given again; this line wins`);
    targets.set(token, target);
  });
  return { targets, problems };
}
