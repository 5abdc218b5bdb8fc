import { USAGE_EXIT_CODE, UsageError } from "../config/usage-error.ts";

/** Prints one line to stderr and exits: no stack trace for problems the user can fix. */
export function fatal(message: string, code = 1): never {
  process.stderr.write(`socket2web: ${message}\n`);
  process.exit(code);
}

/** Turns a failure of a command into its exit: usage errors get status 2. */
export function exitOnError(error: unknown): never {
  if (error instanceof UsageError) fatal(error.message, USAGE_EXIT_CODE);
  fatal(error instanceof Error ? error.message : String(error));
}
