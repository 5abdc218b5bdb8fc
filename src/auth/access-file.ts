import * as v from "valibot";
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
  /** Why `single_use_tickets = true` cannot be kept here (used tickets not remembered in one place). */
  readonly singleUseRefused?: string | undefined;
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

function claimTests(claims: Record<string, string | string[]>): ClaimTest[] {
  return Object.entries(claims).map(([claim, wanted]) => ({
    claim,
    values: typeof wanted === "string" ? [wanted] : wanted,
  }));
}

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
    const table = check.shape(RULE_SCHEMA, raw, "[[rule]]");
    const { name, principals } = table;
    const claims = table.claims && claimTests(table.claims);
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
    fallback = check.settings(check.shape(SETTINGS_SCHEMA, top.default, "[default]"));
  }
  return { rules, fallback, named };
}

const nonEmptyString = (message: string) => v.pipe(v.string(message), v.nonEmpty(message));
const stringList = (message: string) => v.array(nonEmptyString(message), message);
const whole = (max: number) => {
  const message = `must be a whole number from 0 to ${max}`;
  return v.pipe(
    v.number(message),
    v.integer(message),
    v.minValue(0, message),
    v.maxValue(max, message),
  );
};
const positive = (max: number) => {
  const message = `must be a number above 0, at most ${max}`;
  return v.pipe(v.number(message), v.gtValue(0, message), v.maxValue(max, message));
};

/** The keys `[default]` and every rule take. */
const SETTING_ENTRIES = {
  allow: v.optional(stringList("must be a list of non-empty strings")),
  deny: v.optional(stringList("must be a list of non-empty strings")),
  protocols: v.optional(stringList("must be a list of non-empty strings")),
  front_ends: v.optional(stringList("must be a list of non-empty strings")),
  max_sessions: v.optional(whole(MAX_RATE)),
  rate: v.optional(positive(MAX_RATE)),
  max_lifetime: v.optional(whole(MAX_SECONDS)),
  idle_timeout: v.optional(whole(MAX_SECONDS)),
  bandwidth_up: v.optional(whole(MAX_BYTES_PER_SECOND)),
  bandwidth_down: v.optional(whole(MAX_BYTES_PER_SECOND)),
  session_bandwidth_up: v.optional(whole(MAX_BYTES_PER_SECOND)),
  session_bandwidth_down: v.optional(whole(MAX_BYTES_PER_SECOND)),
  single_use_tickets: v.optional(v.boolean("must be true or false")),
  proxy_protocol: v.optional(v.picklist(["v1", "v2", "off"], "must be v1, v2 or off")),
};
const CLAIM_VALUE_MESSAGE = "each claim must be a string or a non-empty list of strings";
const RULE_ENTRIES = {
  name: v.optional(nonEmptyString("must be a non-empty string")),
  principals: v.optional(
    v.pipe(stringList("must be a list of non-empty strings"), v.minLength(1, "names no principal")),
  ),
  claims: v.optional(
    v.pipe(
      v.record(
        v.string(),
        v.union([v.string(), v.pipe(v.array(v.string()), v.minLength(1))], CLAIM_VALUE_MESSAGE),
        'must be a table, e.g. claims = { groups = "ops" }',
      ),
      v.check((claims) => Object.keys(claims).length > 0, "tests no claim"),
    ),
  ),
  ...SETTING_ENTRIES,
};
const keyList = (entries: object) => Object.keys(entries).join(", ");
const SETTINGS_SCHEMA = v.strictObject(
  SETTING_ENTRIES,
  `unknown key (expected one of ${keyList(SETTING_ENTRIES)})`,
);
const RULE_SCHEMA = v.strictObject(
  RULE_ENTRIES,
  `unknown key (expected one of ${keyList(RULE_ENTRIES)})`,
);
type SettingsTable = v.InferOutput<typeof SETTINGS_SCHEMA>;

/** Checks one table (its shape with the schema, then the rules and names), each error at its key's line. */
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

  /** The table's shape, or the first issue at the line of the key it concerns. */
  shape<Schema extends typeof SETTINGS_SCHEMA | typeof RULE_SCHEMA>(
    schema: Schema,
    raw: unknown,
    what: string,
  ): v.InferOutput<Schema> {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      this.fail(undefined, `${what} must be a table`);
    }
    const result = v.safeParse(schema, raw);
    if (result.success) return result.output;
    const issue = result.issues[0];
    const key = issue.path?.[0]?.key;
    this.fail(typeof key === "string" ? key : undefined, issue.message);
  }

  rules(key: "allow" | "deny", texts: readonly string[] | undefined): Rule[] | undefined {
    return texts?.map((text) => {
      try {
        return parseRule(text);
      } catch (error) {
        if (error instanceof PolicyRuleError) this.fail(key, error.message);
        throw error;
      }
    });
  }

  oneOf(key: string, names: string[] | undefined, known: readonly string[]): string[] | undefined {
    const unknown = names?.find((name) => !known.includes(name));
    if (unknown !== undefined) {
      this.fail(key, `unknown name "${unknown}" (known: ${known.join(", ")})`);
    }
    return names;
  }

  settings(table: SettingsTable): AccessSettings {
    const refused = this.vocabulary.singleUseRefused;
    if (table.single_use_tickets === true && refused !== undefined) {
      this.fail("single_use_tickets", refused);
    }
    const allow = this.rules("allow", table.allow);
    const deny = this.rules("deny", table.deny);
    const settings: { -readonly [K in keyof AccessSettings]: AccessSettings[K] } = {
      protocols: this.oneOf("protocols", table.protocols, this.vocabulary.protocols),
      frontEnds: this.oneOf("front_ends", table.front_ends, this.vocabulary.frontEnds),
      maxSessions: table.max_sessions,
      rate: table.rate,
      maxLifetime: table.max_lifetime,
      idleTimeout: table.idle_timeout,
      bandwidthUp: table.bandwidth_up,
      bandwidthDown: table.bandwidth_down,
      sessionBandwidthUp: table.session_bandwidth_up,
      sessionBandwidthDown: table.session_bandwidth_down,
      singleUseTickets: table.single_use_tickets,
      proxyProtocol: table.proxy_protocol,
    };
    if (allow || deny) settings.targets = { allow: allow ?? [], deny: deny ?? [] };
    // Absent keys stay absent, so that printing a rule shows only what it sets.
    return Object.fromEntries(
      Object.entries(settings).filter(([, value]) => value !== undefined),
    ) as AccessSettings;
  }
}
