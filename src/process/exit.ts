/** Prints one line to stderr and exits: no stack trace for problems the user can fix. */
export function fatal(message: string, code = 1): never {
  process.stderr.write(`socket2web: ${message}\n`);
  process.exit(code);
}

/** How long an exit waits for log lines still queued towards a slow stdout or stderr reader. */
const FLUSH_LIMIT_MS = 1000;

/**
 * Exits once stdout and stderr have taken every queued line: Bun's `process.exit` drops what a
 * pipe has not read yet (seen: 930 of 20,000 lines reached a slow reader).
 */
export async function flushAndExit(code: number): Promise<never> {
  const ended = (stream: NodeJS.WriteStream) =>
    new Promise<void>((resolve) => stream.end(() => resolve()));
  await Promise.race([
    Promise.all([ended(process.stdout), ended(process.stderr)]),
    Bun.sleep(FLUSH_LIMIT_MS),
  ]);
  process.exit(code);
}
