import { PolicyRuleError, parseRule, type Rule } from "../policy/rule.ts";
import type { AccessRule, AccessRules, AccessSettings, ClaimTest } from "./access-rules.ts";

/** A file that does not parse or validate: `FILE:LINE: what is wrong`. */
export class AccessFileError extends Error {
  override readonly name = "AccessFileError";
}

/** What the checks need to know of the server: the names a rule may use. */
export interface AccessVocabulary {
  readonly protocols: readonly string[];
  readonly frontEnds: readonly string[];
}

/** Longest file read; an access file for thousands of principals is far smaller. */
export const MAX_ACCESS_FILE_BYTES = 1024 * 1024;
/** Lines tried when locating a TOML syntax error (beyond it the error is reported without one). */
const MAX_LOCATED_LINES = 20_000;
/** Largest second count or byte rate a rule may give. */
const MAX_SECONDS = 365 * 24 * 3600;
const MAX_RATE = 1_000_000;
const MAX_BYTES_PER_SECOND = 1024 ** 4;

type Table = Record<string, unknown>;

/** Where each table and key sits in the text: Bun's TOML parser gives no positions. */
class Locator {
  private readonly lines: readonly string[];

  constructor(text: string) {
    this.lines = text.split(/\r?\n/);
  }

  /** The line (1-based) of the `index`-th `[[rule]]` header, or of `[default]` (index -1). */
  table(name: "rule" | "default", index: number): number {
    const header = name === "rule" ? /^\s*\[\[\s*rule\s*\]\]/ : /^\s*\[\s*default\s*\]/;
    let seen = -1;
    for (let i = 0; i < this.lines.length; i++) {
      if (!header.test(this.lines[i] ?? "")) continue;
      seen++;
      if (name === "default" || seen === index) return i + 1;
    }
    return 1;
  }

  /** The line of `key = …` inside the table starting at `from` (or at the top, from 1). */
  key(from: number, key: string): number {
    const pattern = new RegExp(`^\\s*("?)${key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\1\\s*=`);
    for (let i = from === 1 ? 0 : from; i < this.lines.length; i++) {
      const line = this.lines[i] ?? "";
      if (i >= from && /^\s*\[/.test(line)) break;
      if (pattern.test(line)) return i + 1;
    }
    return from;
  }
}

/** The line of a TOML syntax error: the line after the longest prefix of lines that parses. */
function syntaxErrorLine(text: string): number | undefined {
  const lines = text.split(/\r?\n/);
  if (lines.length > MAX_LOCATED_LINES) return undefined;
  for (let end = lines.length - 1; end >= 0; end--) {
    try {
      Bun.TOML.parse(lines.slice(0, end).join("\n"));
      return end + 1;
    } catch {}
  }
  return 1;
}

const SETTING_KEYS = [
  "allow",
  "deny",
  "protocols",
  "front_ends",
  "max_sessions",
  "rate",
  "max_lifetime",
  "idle_timeout",
  "bandwidth_up",
  "bandwidth_down",
  "session_bandwidth_up",
  "session_bandwidth_down",
  "single_use_tickets",
] as const;
const RULE_KEYS = ["name", "principals", "claims", ...SETTING_KEYS] as const;

/**
 * Reads an access file's text: `[[rule]]` tables (first match wins) and an optional `[default]`.
 * Every problem is an AccessFileError naming `FILE:LINE` and the key.
 */
export function parseAccessFile(
  text: string,
  file: string,
  vocabulary: AccessVocabulary,
): AccessRules {
  let top: Table;
  try {
    top = Bun.TOML.parse(text) as Table;
  } catch (error) {
    const message = (error as Error).message.replace(/^TOML Parse error: /, "");
    const line = syntaxErrorLine(text);
    throw new AccessFileError(`${file}${line ? `:${line}` : ""}: not valid TOML: ${message}`);
  }
  const where = new Locator(text);
  for (const key of Object.keys(top)) {
    if (key !== "rule" && key !== "default") {
      throw new AccessFileError(
        `${file}:${where.key(1, key)}: unknown key "${key}" (expected [[rule]] tables and [default])`,
      );
    }
  }
  const rawRules = top.rule ?? [];
  if (!Array.isArray(rawRules)) {
    throw new AccessFileError(`${file}:${where.key(1, "rule")}: rule must be [[rule]] tables`);
  }
  const named = new Set<string>();
  const rules = rawRules.map((raw, index): AccessRule => {
    const line = where.table("rule", index);
    const check = new Checker(file, where, line, vocabulary);
    const table = check.table(raw, "[[rule]]");
    check.onlyKeys(table, RULE_KEYS);
    const name = check.text(table, "name");
    const principals = check.names(table, "principals");
    const claims = check.claims(table);
    if (principals === undefined && claims === undefined) {
      throw new AccessFileError(
        `${file}:${line}: a rule needs principals or claims to match (use [default] for everyone else)`,
      );
    }
    for (const principal of principals ?? []) if (!/[*?]/.test(principal)) named.add(principal);
    return {
      label: name ?? `rule ${index + 1}`,
      line,
      ...(principals ? { principals } : {}),
      ...(claims ? { claims } : {}),
      ...check.settings(table),
    };
  });
  let fallback: AccessSettings | undefined;
  if (top.default !== undefined) {
    const line = where.table("default", -1);
    const check = new Checker(file, where, line, vocabulary);
    const table = check.table(top.default, "[default]");
    check.onlyKeys(table, SETTING_KEYS);
    fallback = check.settings(table);
  }
  return { rules, fallback, named };
}

/** Checks one table's keys, each error at the key's own line. */
class Checker {
  constructor(
    private readonly file: string,
    private readonly where: Locator,
    private readonly line: number,
    private readonly vocabulary: AccessVocabulary,
  ) {}

  fail(key: string | undefined, problem: string): never {
    const line = key === undefined ? this.line : this.where.key(this.line, key);
    throw new AccessFileError(`${this.file}:${line}: ${key ? `${key}: ` : ""}${problem}`);
  }

  table(raw: unknown, what: string): Table {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      this.fail(undefined, `${what} must be a table`);
    }
    return raw as Table;
  }

  onlyKeys(table: Table, allowed: readonly string[]): void {
    for (const key of Object.keys(table)) {
      if (!allowed.includes(key))
        this.fail(key, `unknown key (expected one of ${allowed.join(", ")})`);
    }
  }

  text(table: Table, key: string): string | undefined {
    const value = table[key];
    if (value === undefined) return undefined;
    if (typeof value !== "string" || value.trim() === "")
      this.fail(key, "must be a non-empty string");
    return value;
  }

  list(table: Table, key: string): string[] | undefined {
    const value = table[key];
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.some((item) => typeof item !== "string" || item === "")) {
      this.fail(key, "must be a list of non-empty strings");
    }
    return value as string[];
  }

  names(table: Table, key: string): string[] | undefined {
    const names = this.list(table, key);
    if (names?.length === 0) this.fail(key, "names no principal");
    return names;
  }

  claims(table: Table): ClaimTest[] | undefined {
    const value = table.claims;
    if (value === undefined) return undefined;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.fail("claims", 'must be a table, e.g. claims = { groups = "ops" }');
    }
    const tests = Object.entries(value as Table).map(([claim, wanted]): ClaimTest => {
      const values = typeof wanted === "string" ? [wanted] : wanted;
      if (
        !Array.isArray(values) ||
        values.length === 0 ||
        values.some((v) => typeof v !== "string")
      ) {
        this.fail("claims", `${claim} must be a string or a list of strings`);
      }
      return { claim, values: values as string[] };
    });
    if (tests.length === 0) this.fail("claims", "tests no claim");
    return tests;
  }

  whole(table: Table, key: string, max: number): number | undefined {
    const value = table[key];
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
      this.fail(key, `must be a whole number from 0 to ${max}`);
    }
    return value;
  }

  positive(table: Table, key: string, max: number): number | undefined {
    const value = table[key];
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > max) {
      this.fail(key, `must be a number above 0, at most ${max}`);
    }
    return value;
  }

  rules(table: Table, key: string): Rule[] | undefined {
    return this.list(table, key)?.map((text) => {
      try {
        return parseRule(text);
      } catch (error) {
        if (error instanceof PolicyRuleError) this.fail(key, error.message);
        throw error;
      }
    });
  }

  oneOf(table: Table, key: string, known: readonly string[]): string[] | undefined {
    const names = this.list(table, key);
    const unknown = names?.find((name) => !known.includes(name));
    if (unknown !== undefined)
      this.fail(key, `unknown name "${unknown}" (known: ${known.join(", ")})`);
    return names;
  }

  settings(table: Table): AccessSettings {
    const allow = this.rules(table, "allow");
    const deny = this.rules(table, "deny");
    const single = table.single_use_tickets;
    if (single !== undefined && typeof single !== "boolean") {
      this.fail("single_use_tickets", "must be true or false");
    }
    const settings: { -readonly [K in keyof AccessSettings]: AccessSettings[K] } = {
      protocols: this.oneOf(table, "protocols", this.vocabulary.protocols),
      frontEnds: this.oneOf(table, "front_ends", this.vocabulary.frontEnds),
      maxSessions: this.whole(table, "max_sessions", MAX_RATE),
      rate: this.positive(table, "rate", MAX_RATE),
      maxLifetime: this.whole(table, "max_lifetime", MAX_SECONDS),
      idleTimeout: this.whole(table, "idle_timeout", MAX_SECONDS),
      bandwidthUp: this.whole(table, "bandwidth_up", MAX_BYTES_PER_SECOND),
      bandwidthDown: this.whole(table, "bandwidth_down", MAX_BYTES_PER_SECOND),
      sessionBandwidthUp: this.whole(table, "session_bandwidth_up", MAX_BYTES_PER_SECOND),
      sessionBandwidthDown: this.whole(table, "session_bandwidth_down", MAX_BYTES_PER_SECOND),
      singleUseTickets: single as boolean | undefined,
    };
    if (allow || deny) settings.targets = { allow: allow ?? [], deny: deny ?? [] };
    // Absent keys stay absent, so that printing a rule shows only what it sets.
    return Object.fromEntries(
      Object.entries(settings).filter(([, value]) => value !== undefined),
    ) as AccessSettings;
  }
}
