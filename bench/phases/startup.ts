// Workload 4: how long socket2web takes from spawn until it accepts a connection, and until
// a WebSocket client gets its greeting. Compiled binary (the target) and source (reference).
import type { BenchConfig } from "../config.ts";
import { canConnect, freePort } from "../lib/net.ts";
import { spawnTracked } from "../lib/procs.ts";
import type { Results, StartupRuns } from "../results.ts";
import { BUN, ROOT } from "../rows/row.ts";
import { BINARY, SOURCE_ENTRY, socket2webArgs } from "../rows/socket2web.ts";
import type { Budget } from "./clock.ts";

function firstMessage(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const timer = setTimeout(() => done(false), timeoutMs);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      ws.close();
      resolve(ok);
    };
    ws.onmessage = () => done(true);
    ws.onerror = () => done(false);
  });
}

async function oneStart(
  command: string[],
  timeoutMs: number,
): Promise<{ acceptMs: number; greetingMs: number }> {
  const port = await freePort();
  const started = performance.now();
  const proc = spawnTracked("startup", [...command, ...socket2webArgs(port)], {
    cwd: ROOT,
    noLimitWrapper: true,
  });
  try {
    let acceptMs = Number.NaN;
    while (performance.now() - started < timeoutMs && proc.proc.exitCode === null) {
      if (await canConnect("127.0.0.1", port)) {
        acceptMs = performance.now() - started;
        break;
      }
    }
    if (Number.isNaN(acceptMs))
      throw new Error(`no accept within ${timeoutMs} ms: ${proc.output().slice(-300)}`);
    const greeted = await firstMessage(`ws://127.0.0.1:${port}/`, timeoutMs);
    const greetingMs = performance.now() - started;
    if (!greeted) throw new Error("no greeting");
    return { acceptMs, greetingMs };
  } finally {
    await proc.stop(1000);
  }
}

/** A port that was free a moment ago can be taken meanwhile: retry such a start. */
async function withRetry<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= 3 || !/in use|EADDRINUSE/i.test(String(error))) throw error;
    }
  }
}

export async function startupPhase(
  config: BenchConfig,
  budget: Budget,
  results: Results,
  available: { binary: boolean; source: boolean },
  log: (line: string) => void,
): Promise<void> {
  const variants: [string, string[], number, boolean][] = [
    ["socket2web-bin", [BINARY], config.startup.runs, available.binary],
    ["socket2web", [BUN, "run", SOURCE_ENTRY], config.startup.sourceRuns, available.source],
  ];
  for (const [id, command, runs, ok] of variants) {
    const slot: StartupRuns = {
      acceptMs: [],
      greetingMs: [],
      failures: [],
    };
    results.startup[id] = slot;
    if (!ok) {
      slot.failures.push("not available");
      continue;
    }
    for (let i = 0; i < runs && budget.allows(3_000); i++) {
      try {
        const run = await withRetry(() => oneStart(command, config.startup.timeoutMs));
        slot.acceptMs.push(run.acceptMs);
        slot.greetingMs.push(run.greetingMs);
      } catch (error) {
        slot.failures.push(error instanceof Error ? error.message : String(error));
      }
    }
    const sorted = [...slot.acceptMs].sort((a, b) => a - b);
    log(
      `  ${id.padEnd(15)} accept median ${(sorted[Math.floor(sorted.length / 2)] ?? Number.NaN).toFixed(1)} ms over ${sorted.length} runs, ${slot.failures.length} failures`,
    );
  }
}
