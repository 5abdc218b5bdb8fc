import type { ArgsDef } from "citty";
import { UsageError } from "../config/usage-error.ts";

const BUILTIN_FLAGS = ["help", "h", "version", "v"];

/** Every flag name the command accepts, without dashes: names, aliases and `no-` forms of booleans. */
function knownFlags(args: ArgsDef): Set<string> {
  const known = new Set(BUILTIN_FLAGS);
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    known.add(name);
    if (def.type === "boolean") known.add(`no-${name}`);
    const aliases = "alias" in def ? def.alias : undefined;
    for (const alias of Array.isArray(aliases) ? aliases : aliases ? [aliases] : [])
      known.add(alias);
  }
  return known;
}

/** citty accepts any flag silently; this refuses unknown ones and names the closest known flag. */
export function assertKnownFlags(rawArgs: readonly string[], args: ArgsDef): void {
  const known = knownFlags(args);
  const valueFlags = new Set(
    Object.entries(args)
      .filter(([, def]) => def.type === "string" || def.type === "enum")
      .map(([name]) => name),
  );
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i] as string;
    if (arg === "--") break;
    if (!arg.startsWith("-") || arg === "-") continue;
    const name = arg.replace(/^-{1,2}/, "").split("=")[0] as string;
    if (!known.has(name)) {
      const closest = closestFlag(
        name,
        [...known].filter((flag) => flag.length > 1),
      );
      throw new UsageError(
        `unknown flag ${arg.split("=")[0]}${closest ? ` (did you mean --${closest}?)` : ""}`,
      );
    }
    if (valueFlags.has(name) && !arg.includes("=")) i++;
  }
}

/** The known flag nearest to `name` by edit distance, when it is near enough to be a typo. */
export function closestFlag(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        substitution,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

const WHOLE_NUMBER = /^(0|[1-9][0-9]*)$/;

/**
 * A whole number within [min, max], or a UsageError that names where the value came from
 * (`--port`, `SOCKET2WEB_PORT`, `socket2web.toml: port`) and what it expects.
 */
export function parseWholeNumber(
  label: string,
  value: unknown,
  min: number,
  max: number,
  note = "",
): number {
  const expected = `a whole number from ${min} to ${max}${note}`;
  if (typeof value !== "string" || !WHOLE_NUMBER.test(value)) {
    throw new UsageError(`${label} expects ${expected}, got ${describe(value)}`);
  }
  const number = Number(value);
  if (number < min || number > max)
    throw new UsageError(`${label} expects ${expected}, got ${value}`);
  return number;
}

export function describe(value: unknown): string {
  if (value === undefined || value === true || value === "") return "no value";
  return JSON.stringify(value);
}
