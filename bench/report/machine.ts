// The machine the numbers came from, and the versions of every peer.
import { readFileSync } from "node:fs";
import os from "node:os";
import { hardNofile } from "../lib/procs.ts";
import { ROOT } from "../rows/row.ts";
import { BINARY, SOURCE_ENTRY } from "../rows/socket2web.ts";

export interface Machine {
  nproc: number;
  cpuModel: string;
  memoryBytes: number;
  kernel: string;
  bun: string;
  node: string | null;
  socat: string | null;
  websockify: string | null;
  wispJs: string | null;
  nofileLimit: string;
  /** Hard RLIMIT_NOFILE: no process the bench starts can hold more fds. */
  hardNofile: number;
  /** What socket2web was measured: commit, and whether the tree had uncommitted changes. */
  socket2web: string;
  loadAverageAtStart: number[];
}

function firstLine(cmd: string[], matching = /./): string | null {
  try {
    const out = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
    const text = `${out.stdout.toString()}${out.stderr.toString()}`.trim();
    return (
      text
        .split("\n")
        .find((line) => matching.test(line))
        ?.trim() ?? null
    );
  } catch {
    return null;
  }
}

/** Which socket2web was measured: the commit, and whether src/ had uncommitted changes. */
export function describeSocket2web(): string {
  const commit = firstLine(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]) ?? "unknown";
  const dirty = (firstLine(["git", "-C", ROOT, "status", "--porcelain", "--", "src"]) ?? "") !== "";
  const where = SOURCE_ENTRY.startsWith(ROOT) ? "" : ` (source ${SOURCE_ENTRY}, binary ${BINARY})`;
  return `commit ${commit}${dirty ? " + uncommitted changes in src/" : ""}${where}`;
}

export function describeMachine(): Machine {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown";
  let wispJs: string | null = null;
  try {
    const pkg = JSON.parse(
      readFileSync(`${ROOT}node_modules/@mercuryworkshop/wisp-js/package.json`, "utf8"),
    ) as { version: string };
    wispJs = pkg.version;
  } catch {
    wispJs = null;
  }
  const limits = readFileSync("/proc/self/limits", "utf8");
  return {
    nproc: os.availableParallelism(),
    cpuModel,
    memoryBytes: os.totalmem(),
    kernel: `${os.type()} ${os.release()}`,
    bun: Bun.version,
    node: firstLine(["node", "--version"]),
    socat: firstLine(["socat", "-V"], /^socat version/),
    websockify: firstLine(["dpkg-query", "-W", "-f=$" + "{Version}", "websockify"]),
    wispJs,
    nofileLimit:
      /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits)?.slice(1, 3).join(" / ") ?? "unknown",
    hardNofile: hardNofile(),
    socket2web: describeSocket2web(),
    loadAverageAtStart: os.loadavg(),
  };
}
