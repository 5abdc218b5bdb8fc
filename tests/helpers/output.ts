import type { Subprocess } from "bun";

/** Text to find, a pattern, or a test of the whole output so far. */
export type OutputNeedle = string | RegExp | ((text: string) => boolean);

export interface CollectedOutput {
  /** Everything the process printed so far, stdout and stderr interleaved as they arrived. */
  text(): string;
  /** Waits until the output matches `needle`, failing early if the process exits (bounded). */
  waitFor(needle: OutputNeedle, timeoutMs?: number): Promise<void>;
  /**
   * Resolves with the whole output once the process has exited and both pipes are at their end:
   * only then may a test assert that something was never printed, or sum what was.
   */
  complete(timeoutMs?: number): Promise<string>;
}

/** Collects a child process's stdout and stderr as text, for tests that wait on its log lines. */
export function collectOutput(
  proc: Subprocess<"ignore" | "pipe", "pipe", "pipe">,
): CollectedOutput {
  let text = "";
  const listeners = new Set<() => void>();
  const changed = () => {
    for (const listener of listeners) listener();
  };
  // One decoder per pipe: a character split across chunks must not meet the other pipe's bytes.
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) {
        text += decoder.decode(chunk, { stream: true });
        changed();
      }
    } finally {
      text += decoder.decode();
    }
  };
  let finished = false;
  // Settled, not all fulfilled: a pipe that errors must still let waiters see the end.
  void Promise.allSettled([pump(proc.stdout), pump(proc.stderr), proc.exited]).then(() => {
    finished = true;
    changed();
  });

  /** Resolves when `done()` holds, re-checked on every new chunk and at the process's end. */
  const until = (done: () => boolean, timeoutMs: number, describe: () => string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        finish();
        resolve();
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(describe()));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });

  return {
    text: () => text,
    async waitFor(needle, timeoutMs = 5000) {
      const matches = () =>
        typeof needle === "string"
          ? text.includes(needle)
          : typeof needle === "function"
            ? needle(text)
            : needle.test(text);
      await until(
        () => matches() || finished,
        timeoutMs,
        () => `output never matched ${needle} within ${timeoutMs} ms; output:\n${text}`,
      );
      if (!matches())
        throw new Error(`process ended before its output matched ${needle}:\n${text}`);
    },
    async complete(timeoutMs = 10_000) {
      await until(
        () => finished,
        timeoutMs,
        () => `process output did not end within ${timeoutMs} ms; output so far:\n${text}`,
      );
      return text;
    },
  };
}
