// The machine the numbers came from, and the versions of every peer.
import { readFileSync } from "node:fs";
import os from "node:os";
import { ROOT } from "../rows/row.ts";

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
    nofileLimit: /^Max open files\s+(\S+\s+\S+)/m.exec(limits)?.[1] ?? "unknown",
    loadAverageAtStart: os.loadavg(),
  };
}
