import { runWithInput } from "./client-cli.ts";

/** Debian's curl, or null when it is not installed. */
export const curlPath = Bun.which("curl");

/** Runs the real curl (silent, errors shown), at most `maxSeconds`; `body` is what it printed. */
export async function runCurl(maxSeconds: number, ...args: string[]) {
  const result = await runWithInput(
    [curlPath as string, "-sS", "--max-time", String(maxSeconds), ...args],
    null,
    (maxSeconds + 5) * 1000,
  );
  return { ...result, body: new TextDecoder().decode(result.stdout) };
}
