/** A bad command line: reported as one line on stderr, exit status 2, no stack trace. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export const USAGE_EXIT_CODE = 2;
