import type { ArgsDef } from "citty";
import { closestName } from "../../config/closest.ts";
import { UsageError } from "../../config/usage-error.ts";

export { describe } from "../../config/numbers.ts";

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
      const closest = closestName(
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
