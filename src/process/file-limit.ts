import { readFileSync } from "node:fs";

/** The soft limit on open files of this process, from /proc (Linux); undefined where unknown. */
export function openFileLimit(limitsText = readProcLimits()): number | undefined {
  const soft = /^Max open files\s+(\d+)/m.exec(limitsText ?? "")?.[1];
  return soft === undefined ? undefined : Number(soft);
}

function readProcLimits(): string | undefined {
  try {
    return readFileSync("/proc/self/limits", "utf8");
  } catch {
    return undefined;
  }
}

/** Descriptors a process needs beyond its sessions: listener, epoll, stdio, timers. */
const RESERVED_DESCRIPTORS = 64;

/**
 * Each proxied session holds two descriptors (the client's socket and the target's); past the
 * limit, new targets fail with EMFILE and their clients get connect_failed.
 */
export function fileLimitWarning(
  maxConnections: number,
  limit: number | undefined,
): string | undefined {
  if (limit === undefined) return undefined;
  const needed = maxConnections * 2 + RESERVED_DESCRIPTORS;
  if (needed <= limit) return undefined;
  return (
    `--max-connections ${maxConnections} needs about ${needed} open files but the limit is ${limit}: ` +
    `sessions past about ${Math.floor((limit - RESERVED_DESCRIPTORS) / 2)} will fail with connect_failed; ` +
    "raise the limit (ulimit -n, LimitNOFILE=) or lower --max-connections"
  );
}
