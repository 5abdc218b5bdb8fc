import { tmpdir } from "node:os";
import type { Subprocess } from "bun";
import { collectOutput, type OutputNeedle } from "./output.ts";
import { closedPort, freePort } from "./ports.ts";
import { processResult } from "./process-result.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The command that starts the proxy: the compiled binary when SOCKET2WEB_BIN is set, else the source. */
export function proxyCommand(): string[] {
  const binary = process.env.SOCKET2WEB_BIN;
  return binary ? [binary] : [process.execPath, "run", `${ROOT}src/main.ts`];
}

export interface RunningProxy {
  readonly url: string;
  readonly port: number;
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Everything the process printed so far, stdout and stderr. */
  output(): string;
  /** Waits until the output contains `text` (bounded by `timeoutMs`). */
  waitForOutput(text: OutputNeedle, timeoutMs?: number): Promise<void>;
  /** The whole output, once the process has exited and both pipes have ended (after `stop`). */
  completeOutput(timeoutMs?: number): Promise<string>;
  rss(): number;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** Variables for a child process; `undefined` removes one the test process has. */
export type ChildEnv = Record<string, string | undefined>;

/**
 * The environment for a child: the test's own, plus `NO_COLOR=1` (log lines compared as text),
 * plus `extra`, where an `undefined` value removes the variable.
 */
export function childEnv(extra: ChildEnv = {}): Record<string, string> {
  const merged: ChildEnv = { ...process.env, NO_COLOR: "1", ...extra };
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(merged)) if (value !== undefined) env[name] = value;
  return env;
}

/**
 * Starts a real proxy process on a free loopback port (or `fixedPort`: a restart on the port a
 * client knows) and waits until it accepts connections.
 */
export async function startProxy(
  args: string[] = [],
  env: ChildEnv = {},
  fixedPort?: number,
): Promise<RunningProxy> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = fixedPort ?? (await freePort());
    const proc = Bun.spawn(
      [...proxyCommand(), "--ip", "127.0.0.1", "--port", String(port), ...args],
      {
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
        env: childEnv(env),
      },
    );
    const output = collectOutput(proc);
    try {
      await output.waitFor("listening on");
    } catch (error) {
      proc.kill();
      await proc.exited;
      if (output.text().includes("already in use")) continue;
      throw error;
    }
    return {
      url: `ws://127.0.0.1:${port}`,
      port,
      proc,
      output: output.text,
      waitForOutput: output.waitFor,
      completeOutput: output.complete,
      rss: () => rssOf(proc.pid),
      async stop(signal: NodeJS.Signals = "SIGTERM") {
        if (proc.exitCode === null) proc.kill(signal);
        return proc.exited;
      },
    };
  }
  throw new Error("no free port for the proxy after 3 attempts");
}

/** Resident set size of a process in bytes, from /proc. */
export function rssOf(pid: number): number {
  const status = require("node:fs").readFileSync(`/proc/${pid}/status`, "utf8") as string;
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

export interface CompletedRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/** Runs the proxy command to completion (killed after 10 s), e.g. for exit codes and messages. */
export async function runProxyCommand(
  args: string[],
  options: { env?: ChildEnv; prefix?: string[]; cwd?: string; command?: string[] } = {},
): Promise<CompletedRun> {
  const proc = Bun.spawn(
    [...(options.prefix ?? []), ...(options.command ?? proxyCommand()), ...args],
    {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: childEnv({ HOME: tmpdir(), ...options.env }),
      cwd: options.cwd,
    },
  );
  return processResult(proc, 10_000);
}

/**
 * Runs the proxy with arguments that must fail at start-up, on a loopback port that is held
 * bound and never listening: if the arguments were wrongly accepted, the bind fails at once
 * (as root, a port like 1 would bind and the run would hang until killed).
 */
export async function runStartupError(args: string[], env: ChildEnv = {}): Promise<CompletedRun> {
  const port = String(await closedPort());
  return runProxyCommand(["--ip", "127.0.0.1", "--port", port, ...args], { env });
}

/**
 * CPU time a process has used so far, in milliseconds (utime + stime from /proc, at the kernel's
 * 100 ticks per second): what the process itself spent, whatever else loads the machine.
 */
export function cpuMillis(pid: number): number {
  const stat = require("node:fs").readFileSync(`/proc/${pid}/stat`, "utf8") as string;
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
