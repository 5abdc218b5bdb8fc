import type { Subprocess } from "bun";
import { collectOutput } from "./output.ts";
import { proxyCommand } from "./proxy.ts";

/** `forward` and `connect` are subcommands of the main command: the compiled binary or src/main.ts. */
export const clientCommand = proxyCommand;

/** `socket2web connect --server S --target T …extra`: the connect mode's command line. */
export const connectArgs = (server: string, target: string, ...extra: string[]) => [
  ...clientCommand(),
  "connect",
  "--server",
  server,
  "--target",
  target,
  ...extra,
];

/** `socket2web forward --listen L --server S --target T …extra`: the forward mode's command line. */
export const forwardArgs = (listen: string, server: string, target: string, ...extra: string[]) => [
  ...clientCommand(),
  "forward",
  "--listen",
  listen,
  "--server",
  server,
  "--target",
  target,
  ...extra,
];

export interface RunningForward {
  readonly port: number;
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  output(): string;
  /** Waits until `count` lines match `pattern` (bounded by `timeoutMs`). */
  waitForLines(pattern: RegExp, count: number, timeoutMs?: number): Promise<string[]>;
  stop(): Promise<number>;
}

/**
 * Starts `socket2web forward --listen 127.0.0.1:0 …` (or another listening command: `socks`) and
 * waits for the port it picked.
 */
export async function startForward(
  args: string[],
  command: "forward" | "socks" = "forward",
): Promise<RunningForward> {
  const proc = Bun.spawn([...clientCommand(), command, "--listen", "127.0.0.1:0", ...args], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1" },
  });
  const output = collectOutput(proc);
  const matching = (pattern: RegExp) =>
    output
      .text()
      .split("\n")
      .filter((line) => pattern.test(line));
  const waitForLines = async (pattern: RegExp, count: number, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (matching(pattern).length < count) {
      if (Date.now() > deadline || proc.exitCode !== null) {
        throw new Error(
          `${command} output never had ${count} lines matching ${pattern}; output:\n${output.text()}`,
        );
      }
      await Bun.sleep(10);
    }
    return matching(pattern);
  };
  try {
    const [line] = await waitForLines(/listening on 127\.0\.0\.1:\d+/, 1);
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(line ?? "")?.[1]);
    return {
      port,
      proc,
      output: output.text,
      waitForLines,
      async stop() {
        if (proc.exitCode === null) proc.kill("SIGTERM");
        return proc.exited;
      },
    };
  } catch (error) {
    proc.kill();
    await proc.exited;
    throw error;
  }
}

export interface CliResult {
  exitCode: number;
  stdout: Uint8Array;
  stderr: string;
}

/** Runs a command to completion with `input` on stdin, killing it after `timeoutMs`. */
export async function runWithInput(
  command: string[],
  input: Uint8Array | null,
  timeoutMs = 15_000,
): Promise<CliResult> {
  const proc = Bun.spawn(command, {
    stdin: input ? "pipe" : "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1" },
  });
  const killer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const stdout = new Response(proc.stdout).arrayBuffer();
  const stderr = new Response(proc.stderr).text();
  if (input && proc.stdin) {
    // Fed in slices so a large input is written as the child reads it.
    for (let offset = 0; offset < input.byteLength; offset += 1 << 20) {
      proc.stdin.write(input.subarray(offset, offset + (1 << 20)));
      await proc.stdin.flush();
    }
    await proc.stdin.end();
  }
  const exitCode = await proc.exited;
  clearTimeout(killer);
  return { exitCode, stdout: new Uint8Array(await stdout), stderr: await stderr };
}
