// CPU time a process (tree) has used, from /proc/<pid>/stat (utime + stime, clock ticks).
import { readdirSync, readFileSync } from "node:fs";
import { descendants } from "./procs.ts";

const TICKS_PER_SECOND = 100;

function cpuOf(pid: number): { user: number; system: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime, stime, then cutime, cstime: children already reaped (socat's per-connection forks).
    return {
      user: (Number(fields[11]) + Number(fields[13])) / TICKS_PER_SECOND,
      system: (Number(fields[12]) + Number(fields[14])) / TICKS_PER_SECOND,
    };
  } catch {
    return { user: 0, system: 0 };
  }
}

/** User and system CPU seconds of `root` and its live descendants. */
export function treeCpu(root: number): { user: number; system: number } {
  let user = 0;
  let system = 0;
  for (const pid of [root, ...descendants(root)]) {
    const c = cpuOf(pid);
    user += c.user;
    system += c.system;
  }
  return { user, system };
}

/** User + system CPU seconds in one thread's /proc stat line (without its children's). */
function taskSeconds(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** CPU seconds (user + system) of each thread of `pid`, summed by thread name (`comm`). */
export function threadCpu(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return byName;
  }
  for (const tid of tasks) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")).replace(/\d+$/, "#");
      byName.set(name, (byName.get(name) ?? 0) + taskSeconds(stat));
    } catch {
      // The thread ended meanwhile.
    }
  }
  return byName;
}

/** CPU seconds (user + system) of the main thread of `pid` alone (its thread id is its pid). */
export function mainThreadCpu(pid: number): number {
  try {
    return taskSeconds(readFileSync(`/proc/${pid}/task/${pid}/stat`, "utf8"));
  } catch {
    return 0;
  }
}
