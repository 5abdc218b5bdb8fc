import { USAGE_EXIT_CODE, UsageError } from "../config/usage-error.ts";
import { fatal } from "../process/exit.ts";

/** Turns a failure of a command into its exit: usage errors get status 2. */
export function exitOnError(error: unknown): never {
  if (error instanceof UsageError) fatal(error.message, USAGE_EXIT_CODE);
  fatal(error instanceof Error ? error.message : String(error));
}
