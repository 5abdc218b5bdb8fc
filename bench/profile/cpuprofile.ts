// Reads a Chrome-format .cpuprofile (what `bun --cpu-prof` writes) and ranks functions by
// self time and by inclusive time.
import { readFileSync } from "node:fs";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface Ranked {
  name: string;
  selfMs: number;
  totalMs: number;
}

function nameOf(frame: CallFrame, root: string): string {
  const url = frame.url.replace(/^file:\/\//, "").replace(root, "");
  const fn = frame.functionName || "(anonymous)";
  return url ? `${fn} ${url}:${frame.lineNumber + 1}` : fn;
}

function medianDelta(deltas: number[]): number {
  const sorted = deltas.filter((d) => d > 0).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 1000;
}

export function rankProfile(
  path: string,
  root: string,
): { totalMs: number; idleMs: number; ranked: Ranked[] } {
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Each sample stands for one sampling interval. Time deltas are not used as weights: the
  // sampler only runs while the VM runs, so a delta that spans an idle wait would be charged
  // to whatever ran last before it (seen: socket.end() "taking" seconds).
  const intervalMs = medianDelta(profile.timeDeltas) / 1000;
  const self = new Map<number, number>();
  for (const id of profile.samples) self.set(id, (self.get(id) ?? 0) + intervalMs);
  const selfByName = new Map<string, number>();
  const totalByName = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  for (const [id, ms] of self) {
    totalMs += ms;
    const node = byId.get(id);
    if (!node) continue;
    const name = nameOf(node.callFrame, root);
    if (/^\((idle|program|garbage collector)\)$/.test(node.callFrame.functionName)) {
      if (node.callFrame.functionName === "(idle)") idleMs += ms;
    }
    selfByName.set(name, (selfByName.get(name) ?? 0) + ms);
    // Inclusive: count each distinct name once per stack.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame) break;
      const n = nameOf(frame, root);
      if (seen.has(n)) continue;
      seen.add(n);
      totalByName.set(n, (totalByName.get(n) ?? 0) + ms);
    }
  }
  const ranked = [...totalByName.entries()].map(([name, totalMsOf]) => ({
    name,
    selfMs: selfByName.get(name) ?? 0,
    totalMs: totalMsOf,
  }));
  return { totalMs, idleMs, ranked };
}
