import { UsageError } from "../../config/usage-error.ts";

/**
 * Every value of a repeatable flag, in order (`--header A --header=B`). citty keeps only the
 * last occurrence, so the raw arguments are read here.
 */
export function repeatedFlag(rawArgs: readonly string[], name: string): string[] {
  const values: string[] = [];
  const flag = `--${name}`;
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i] as string;
    if (arg === "--") break;
    if (arg.startsWith(`${flag}=`)) {
      values.push(arg.slice(flag.length + 1));
    } else if (arg === flag) {
      const value = rawArgs[i + 1];
      if (value === undefined || value.startsWith("--"))
        throw new UsageError(`${flag} expects a value, got no value`);
      values.push(value);
      i++;
    }
  }
  return values;
}
