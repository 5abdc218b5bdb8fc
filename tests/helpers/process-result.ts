import type { Subprocess } from "bun";

export interface ProcessResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

type PipedProcess = Pick<Subprocess, "exited" | "kill"> & {
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
};

/**
 * A child's whole output and exit code, read together so that neither pipe fills up and stalls
 * it; with `timeoutMs`, a child that outlives it is killed (SIGKILL) so a test cannot hang.
 */
export async function processResult(
  proc: PipedProcess,
  timeoutMs?: number,
): Promise<ProcessResult> {
  const timer =
    timeoutMs === undefined ? undefined : setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  try {
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { stdout, stderr, code };
  } finally {
    clearTimeout(timer);
  }
}
