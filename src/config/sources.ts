import { closestName } from "./closest.ts";
import { readSmallFile } from "./read-file.ts";
import {
  allowedIn,
  ENV_PREFIX,
  envName,
  SETTINGS,
  type Setting,
  type SettingKey,
  type SourceKind,
} from "./settings.ts";
import { UsageError } from "./usage-error.ts";

/** A setting as one source gave it, before validation; `label` names it in messages. */
export interface RawSetting {
  readonly value: string | readonly string[] | boolean;
  readonly source: SourceKind;
  /** `--port`, `SOCKET2WEB_PORT` or `socket2web.toml: port`. */
  readonly label: string;
}

export type RawSettings = Partial<Record<SettingKey, RawSetting>>;

const entries = Object.entries(SETTINGS) as [SettingKey, Setting][];

/** The setting a table key names, if any: `constructor` and `__proto__` are not settings. */
export function settingOf(name: string): Setting | undefined {
  return Object.hasOwn(SETTINGS, name) ? SETTINGS[name as SettingKey] : undefined;
}

const flagNames = entries.filter(([, s]) => allowedIn(s, "flag")).map(([key]) => key);

/**
 * What other servers call our flags: spelling is no guide here (`--host` is nearer `--port`
 * than `--ip`), so these are looked up before the nearest name.
 */
const FLAG_SYNONYMS: Readonly<Record<string, SettingKey>> = {
  host: "ip",
  bind: "ip",
  address: "ip",
  p: "port",
};

function unknownFlag(arg: string, name: string): UsageError {
  const setting = settingOf(name);
  if (setting !== undefined) {
    return new UsageError(`unknown flag ${arg} (it can only be set as ${envName(name)})`);
  }
  const closest = Object.hasOwn(FLAG_SYNONYMS, name)
    ? FLAG_SYNONYMS[name]
    : closestName(name, flagNames);
  return new UsageError(`unknown flag ${arg}${closest ? ` (did you mean --${closest}?)` : ""}`);
}

/**
 * The one reading of the server's command line: every argument is a known flag, its value, or
 * an error (an unknown flag names the closest known one; a stray argument is refused), so no
 * flag is ever silently ignored. A repeated single-value flag keeps its last value; a value flag
 * with nothing after it, or followed by another `--flag`, has the value "" so that its parser
 * reports "no value".
 */
export function readFlags(rawArgs: readonly string[]): RawSettings {
  const found: RawSettings = {};
  const lists = new Map<SettingKey, string[]>();
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i] as string;
    if (arg === "--" || !arg.startsWith("-")) {
      const stray = arg === "--" ? rawArgs[i + 1] : arg;
      if (stray === undefined) break;
      throw new UsageError(`unexpected argument ${JSON.stringify(stray)}`);
    }
    if (!arg.startsWith("--")) throw unknownFlag(arg, arg.slice(1));
    const [rawName = "", ...rest] = arg.slice(2).split("=");
    const inline = rest.length > 0 ? rest.join("=") : undefined;
    const negatable = rawName.startsWith("no-") && settingOf(rawName.slice(3))?.kind === "switch";
    const key = (negatable ? rawName.slice(3) : rawName) as SettingKey;
    const setting = settingOf(key);
    if (setting === undefined || !allowedIn(setting, "flag")) throw unknownFlag(arg, rawName);
    const label = `--${key}`;
    if (setting.kind === "switch") {
      const on = inline === undefined ? !negatable : parseSwitch(inline, label) !== negatable;
      found[key] = { value: on, source: "flag", label };
      continue;
    }
    let text = inline;
    if (text === undefined) {
      const next = rawArgs[i + 1];
      if (next !== undefined && !next.startsWith("--")) {
        text = next;
        i++;
      }
    }
    if (setting.kind === "list") {
      if (!text) throw new UsageError(`${label} expects a ${setting.hint}, got no value`);
      const items = lists.get(key) ?? [];
      items.push(text);
      lists.set(key, items);
      found[key] = { value: items, source: "flag", label };
    } else {
      found[key] = { value: text ?? "", source: "flag", label };
    }
  }
  return found;
}

function emptySecurityValue(label: string): UsageError {
  return new UsageError(
    `${label} is given but empty: a security setting must have a value (leave it out to not set it)`,
  );
}

/**
 * SOCKET2WEB_* variables. An empty variable counts as unset, as container tools often pass them,
 * except for a security setting: there it is an error, since it usually means a secret that
 * failed to load (`SOCKET2WEB_TICKET_SECRET="$(cat missing-file)"`).
 */
export function readEnv(env: Readonly<Record<string, string | undefined>>): RawSettings {
  const found: RawSettings = {};
  for (const [key, setting] of entries) {
    if (!allowedIn(setting, "env")) continue;
    const name = envName(key);
    const text = env[name];
    if (text === undefined) continue;
    if (text.trim() === "") {
      if (setting.security) throw emptySecurityValue(name);
      continue;
    }
    let value: RawSetting["value"];
    if (setting.kind === "list") {
      value = text
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== "");
      if (value.length === 0 && setting.security) throw emptySecurityValue(name);
    } else if (setting.kind === "switch") {
      value = parseSwitch(text, name);
    } else {
      value = text;
    }
    found[key] = { value, source: "env", label: name };
  }
  return found;
}

/**
 * A start-up warning for each `SOCKET2WEB_*` variable that is no setting (a typo would otherwise
 * be ignored without a word), naming the nearest setting's variable. `alsoRead` are the
 * variables the program reads outside the settings table.
 */
export function unknownEnvWarnings(
  env: Readonly<Record<string, string | undefined>>,
  alsoRead: readonly string[],
): string[] {
  const settingNames = entries.filter(([, s]) => allowedIn(s, "env")).map(([key]) => envName(key));
  const known = new Set([...settingNames, ...alsoRead]);
  // Compared without the prefix, which every name shares and which would make any two look alike.
  const suffixes = settingNames.map((name) => name.slice(ENV_PREFIX.length));
  return Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && !known.has(name))
    .sort()
    .map((name) => {
      const closest = closestName(name.slice(ENV_PREFIX.length), suffixes);
      const hint = closest === undefined ? "" : ` (did you mean ${ENV_PREFIX}${closest}?)`;
      return `${name} is not a socket2web setting and is ignored${hint}`;
    });
}

/**
 * The settings of a TOML file (keys as the flags, without dashes in front). Unknown keys and
 * values of the wrong shape are errors naming the file and the key.
 */
export function readConfigFile(path: string, label: string): RawSettings {
  const text = readSmallFile(path, label);
  let table: Record<string, unknown>;
  try {
    table = Bun.TOML.parse(text) as Record<string, unknown>;
  } catch (error) {
    // Bun's TOML errors carry no position in the file (their line and column are not the file's).
    const message = (error as Error).message.replace(/^TOML Parse error: /, "");
    throw new UsageError(`${path}: not valid TOML: ${message}`);
  }
  const fileKeys = entries.filter(([, s]) => allowedIn(s, "file")).map(([key]) => key);
  const found: RawSettings = {};
  for (const [name, raw] of Object.entries(table)) {
    const key = name as SettingKey;
    const setting = settingOf(name);
    if (setting === undefined || !allowedIn(setting, "file")) {
      const closest = closestName(name, fileKeys);
      const where = setting === undefined ? "" : " (it cannot be set in a file)";
      throw new UsageError(
        `${path}: unknown key "${name}"${where}${closest && !setting ? ` (did you mean ${closest}?)` : ""}`,
      );
    }
    const label = `${path}: ${name}`;
    const value = fileValue(setting, raw, label);
    if (setting.security && (value === "" || (Array.isArray(value) && value.length === 0))) {
      throw emptySecurityValue(label);
    }
    found[key] = { value, source: "file", label };
  }
  return found;
}

function fileValue(setting: Setting, raw: unknown, label: string): RawSetting["value"] {
  switch (setting.kind) {
    case "switch":
      if (typeof raw !== "boolean")
        throw new UsageError(`${label} expects true or false, got ${show(raw)}`);
      return raw;
    case "list": {
      const items = typeof raw === "string" ? [raw] : raw;
      if (!Array.isArray(items) || !items.every((item) => typeof item === "string")) {
        throw new UsageError(`${label} expects a list of strings, got ${show(raw)}`);
      }
      return items;
    }
    case "value":
      // Whole numbers may be written as TOML integers; the parser then checks the text.
      if (typeof raw === "string") return raw;
      if (typeof raw === "number" || typeof raw === "bigint") return String(raw);
      throw new UsageError(`${label} expects a single ${setting.hint}, got ${show(raw)}`);
  }
}

function show(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object" && value !== null) return "a table";
  return JSON.stringify(value) ?? String(value);
}

const TRUE = ["1", "true", "yes", "on"];
const FALSE = ["0", "false", "no", "off"];

function parseSwitch(text: string, label: string): boolean {
  const lower = text.toLowerCase();
  if (TRUE.includes(lower)) return true;
  if (FALSE.includes(lower)) return false;
  throw new UsageError(
    `${label} expects true or false (or 1/0, yes/no), got ${JSON.stringify(text)}`,
  );
}
