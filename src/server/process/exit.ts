/** Prints one line to stderr and exits: no stack trace for problems the user can fix. */
export function fatal(message: string, code = 1): never {
  process.stderr.write(`socket2web: ${message}\n`);
  process.exit(code);
}
