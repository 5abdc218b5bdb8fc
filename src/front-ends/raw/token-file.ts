import { type FixedTarget, parseTargetWithOptions } from "../../net/target-text.ts";

/** What one token file holds: its targets, and a sentence for each line that was skipped. */
export interface ParsedTokenFile {
  readonly targets: ReadonlyMap<string, FixedTarget>;
  /** The line each token's target comes from (its last line), to name it when a later file repeats it. */
  readonly lines: ReadonlyMap<string, number>;
  /** `FILE:LINE: what is wrong`, never the line's token. */
  readonly problems: readonly string[];
}

/**
 * websockify's TokenFile format: `TOKEN: HOST:PORT` per line, `#` comments and blank lines
 * ignored, white space around each part allowed; after the target, Socket2Web's own options
 * (`proxy-protocol=v1|v2|off`), which websockify's files never have. A malformed line is reported and skipped, so
 * one typo does not take every other target down with it.
 */
export function parseTokenFileText(text: string, fileName: string): ParsedTokenFile {
  const targets = new Map<string, FixedTarget>();
  const lines = new Map<string, number>();
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
    const target = parseTargetWithOptions(line.slice(colon + 1));
    if (typeof target === "string") {
      problems.push(`${where}: ${target}`);
      return;
    }
    const earlier = lines.get(token);
    if (earlier !== undefined) problems.push(repeatedToken(`${fileName}:${earlier}`, where));
    targets.set(token, target);
    lines.set(token, index + 1);
  });
  return { targets, lines, problems };
}

/**
 * The sentence for a token given twice, in one file or in two files of a directory: the last one
 * wins, so the earlier line is the one left out (the log says `token file: skipped …`).
 */
export function repeatedToken(earlier: string, later: string): string {
  return `${earlier}: its token is given again at ${later}, which wins (the last one does; a directory's files are read in name order)`;
}
