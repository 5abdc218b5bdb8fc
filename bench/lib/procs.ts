// Child processes of the bench: spawned with a raised fd limit, tracked, and always killed
// (with their descendants) at the end, even when the bench fails.
import { readdirSync, readFileSync } from "node:fs";
import type { Subprocess } from "bun";

/** File descriptors we would like every process the bench starts to have (a proxy holds 2 per session). */
const WANTED_NOFILE = 65_536;

/** The hard RLIMIT_NOFILE of this process: without CAP_SYS_RESOURCE no child can exceed it. */
export function hardNofile(): number {
  const limits = readFileSync("/proc/self/limits", "utf8");
  const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(limits)?.[1];
  return hard === undefined || hard === "unlimited" ? WANTED_NOFILE : Number(hard);
}

export const NOFILE = Math.min(WANTED_NOFILE, hardNofile());

export interface Tracked {
  readonly label: string;
  readonly pid: number;
  readonly proc: Subprocess<"pipe", "pipe", "pipe">;
  /** stdout and stderr so far (capped). */
  output(): string;
  /** Resolves with the first stdout line that matches, bounded by `timeoutMs`. */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
  /** Writes one line to the child's stdin. */
  send(line: string): void;
  /** SIGTERM to the process and its descendants, SIGKILL after `graceMs`. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<Tracked>();
const OUTPUT_CAP = 256 * 1024;

export interface SpawnOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Skip the prlimit wrapper (one exec less: for start-up timing). */
  noLimitWrapper?: boolean;
}

export function spawnTracked(label: string, cmd: string[], options: SpawnOptions = {}): Tracked {
  const argv = options.noLimitWrapper
    ? cmd
    : ["prlimit", `--nofile=${NOFILE}:${NOFILE}`, "--", ...cmd];
  const proc = Bun.spawn(argv, {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
  });
  let text = "";
  let pendingLine = "";
  const lines: string[] = [];
  const lineWaiters = new Set<() => void>();
  const append = (chunk: string) => {
    if (text.length < OUTPUT_CAP) text += chunk.slice(0, OUTPUT_CAP - text.length);
  };
  const pumpStdout = async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout) {
      const s = decoder.decode(chunk, { stream: true });
      append(s);
      pendingLine += s;
      const parts = pendingLine.split("\n");
      pendingLine = parts.pop() ?? "";
      lines.push(...parts);
      for (const wake of lineWaiters) wake();
    }
  };
  const pumpStderr = async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) append(decoder.decode(chunk, { stream: true }));
  };
  void pumpStdout().catch(() => {});
  void pumpStderr().catch(() => {});
  let stopping: Promise<void> | undefined;
  let consumed = 0;

  const tracked: Tracked = {
    label,
    pid: proc.pid,
    proc,
    output: () => text,
    async waitForLine(match, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        while (consumed < lines.length) {
          const line = lines[consumed++] as string;
          if (match(line)) return line;
        }
        if (proc.exitCode !== null || proc.signalCode !== null) {
          throw new Error(
            `${label} exited (${proc.exitCode ?? proc.signalCode}) before the expected line; output:\n${text.slice(-2000)}`,
          );
        }
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(
            `${label}: no expected line within ${timeoutMs} ms; output:\n${text.slice(-2000)}`,
          );
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            lineWaiters.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, Math.min(left, 100));
          lineWaiters.add(wake);
        });
      }
    },
    send(line) {
      try {
        proc.stdin.write(`${line}\n`);
        proc.stdin.flush();
      } catch {
        // The child is gone; its exit is reported elsewhere.
      }
    },
    stop(graceMs = 2000) {
      stopping ??= (async () => {
        const tree = [proc.pid, ...descendants(proc.pid)];
        signalAll(tree, "SIGTERM");
        const exited = await Promise.race([
          proc.exited.then(() => true),
          Bun.sleep(graceMs).then(() => false),
        ]);
        // Forked children (socat, websockify) may outlive their parent: kill whatever is left.
        const left = exited ? tree.filter(isAlive) : tree;
        if (left.length > 0) signalAll(left, "SIGKILL");
        await Promise.race([proc.exited, Bun.sleep(1000)]);
        live.delete(tracked);
      })();
      return stopping;
    },
  };
  live.add(tracked);
  return tracked;
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every descendant of `root`, from /proc (parent links). */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue;
    }
    // Field 4 (ppid) follows the parenthesised command, which may contain spaces.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    for (const child of children.get(pid) ?? []) {
      out.push(child);
      stack.push(child);
    }
  }
  return out;
}

/** Stops every tracked process that is still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((t) => t.stop(1000)));
}

let hooked = false;
/** Kills every child when the bench ends, however it ends. Registered once. */
export function installCleanup(): void {
  if (hooked) return;
  hooked = true;
  const onSignal = (signal: NodeJS.Signals) => {
    void stopAll().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  process.once("exit", () => {
    for (const t of live) signalAll([t.pid, ...descendants(t.pid)], "SIGKILL");
  });
}
