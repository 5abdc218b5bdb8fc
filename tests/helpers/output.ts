import type { Subprocess } from "bun";

export interface CollectedOutput {
  /** Everything the process printed so far, stdout and stderr interleaved as they arrived. */
  text(): string;
  /** Waits until the output matches `needle`, failing early if the process exits (bounded). */
  waitFor(needle: string | RegExp, timeoutMs?: number): Promise<void>;
}

/** Collects a child process's stdout and stderr as text, for tests that wait on its log lines. */
export function collectOutput(
  proc: Subprocess<"ignore" | "pipe", "pipe", "pipe">,
): CollectedOutput {
  let text = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  void pump(proc.stdout);
  void pump(proc.stderr);
  return {
    text: () => text,
    async waitFor(needle, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (typeof needle === "string" ? text.includes(needle) : needle.test(text)) return;
        if (proc.exitCode !== null) break;
        await Bun.sleep(10);
      }
      throw new Error(`output never matched ${needle}; output:\n${text}`);
    },
  };
}
