// Memory of a process tree from /proc: RSS as the kernel counts it, and PSS, which shares
// pages fairly between forked children (socat and websockify fork one per connection).
import { readFileSync } from "node:fs";
import { descendants } from "./procs.ts";

export interface TreeMemory {
  /** Sum of RSS over the tree, bytes. */
  rss: number;
  /** Sum of PSS over the tree, bytes. */
  pss: number;
  processes: number;
}

function field(text: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text);
  return match?.[1] ? Number(match[1]) * 1024 : 0;
}

export function treeMemory(root: number): TreeMemory {
  let rss = 0;
  let pss = 0;
  let processes = 0;
  for (const pid of [root, ...descendants(root)]) {
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
      rss += field(rollup, "Rss");
      pss += field(rollup, "Pss");
      processes++;
    } catch {
      // Exited between listing and reading.
    }
  }
  return { rss, pss, processes };
}
