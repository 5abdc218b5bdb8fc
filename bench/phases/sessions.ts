// Workload 3: N concurrent sessions per row, with the proxy's memory idle, at the plateau
// and after every session closed. A fresh row process for every run.
import type { BenchConfig } from "../config.ts";
import { treeCpu } from "../lib/cpu-time.ts";
import { type TreeMemory, treeMemory } from "../lib/memory.ts";
import type { Tracked } from "../lib/procs.ts";
import { slot } from "../lib/records.ts";
import type { Results, SessionRun, SessionSlot } from "../results.ts";
import type { Row, RowContext, RunningRow } from "../rows/row.ts";
import { resultLines, spawnClient } from "./client.ts";
import { type Budget, rotate } from "./clock.ts";

/** After close, memory is sampled until it is back within this fraction of idle, or time runs out. */
const BACK_TO_IDLE = 0.1;
const AFTER_CLOSE_MAX_MS = 3_000;
const newByCount = (): Record<string, SessionSlot> => ({});

interface Cycle {
  result: Omit<SessionRun, "memory">;
  plateau: TreeMemory | null;
  after: TreeMemory | null;
  afterWaitMs: number;
  /** Proxy CPU seconds over the whole cycle (open, echo, idle, close). */
  cpuSeconds: number | undefined;
}

/** One client process: open the sessions, sample the plateau, close them, sample again. */
async function cycle(
  running: RunningRow,
  count: number,
  config: BenchConfig,
  idle: TreeMemory | null,
  clients: Tracked[],
): Promise<Cycle> {
  const s = config.sessions;
  const pid = running.pid;
  const cpuBefore = pid === null ? null : treeCpu(pid);
  const proc = spawnClient({
    kind: "sessions",
    endpoint: running.endpoint,
    sessions: {
      sessions: count,
      concurrency: s.concurrency,
      echoBytes: s.echoBytes,
      perSessionTimeoutMs: s.perSessionTimeoutMs,
      phaseTimeoutMs: s.phaseTimeoutMs,
    },
  });
  clients.push(proc);
  await proc.waitForLine(
    (l) => l.startsWith("RESULT "),
    s.phaseTimeoutMs + s.perSessionTimeoutMs + 15_000,
  );
  const result = resultLines(proc.output())[0] as unknown as Omit<SessionRun, "memory">;
  await Bun.sleep(s.settleMs);
  const plateau = pid === null ? null : treeMemory(pid);
  proc.send("close");
  await proc.waitForLine((l) => l.startsWith("CLOSED"), 15_000).catch(() => "");
  const closedAt = Date.now();
  let after = plateau;
  if (pid !== null && idle) {
    await Bun.sleep(s.settleMs / 2);
    after = treeMemory(pid);
    while (
      after.rss > idle.rss * (1 + BACK_TO_IDLE) &&
      Date.now() - closedAt < AFTER_CLOSE_MAX_MS
    ) {
      await Bun.sleep(250);
      after = treeMemory(pid);
    }
  }
  await proc.stop(1000);
  const cpuAfter = pid === null ? null : treeCpu(pid);
  const cpuSeconds =
    cpuBefore && cpuAfter
      ? cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system
      : undefined;
  return { result, plateau, after, afterWaitMs: Date.now() - closedAt, cpuSeconds };
}

/** Opens and closes a few hundred sessions so that the row runs warm code, as a server would. */
async function warmUp(running: RunningRow, config: BenchConfig, clients: Tracked[]): Promise<void> {
  const s = config.sessions;
  if (s.warmupSessions <= 0) return;
  const proc = spawnClient({
    kind: "sessions",
    endpoint: running.endpoint,
    sessions: {
      sessions: s.warmupSessions,
      concurrency: s.concurrency,
      echoBytes: s.echoBytes,
      perSessionTimeoutMs: s.perSessionTimeoutMs,
      phaseTimeoutMs: s.phaseTimeoutMs,
    },
  });
  clients.push(proc);
  await proc.waitForLine((l) => l.startsWith("RESULT "), s.phaseTimeoutMs + s.perSessionTimeoutMs);
  proc.send("close");
  await proc.waitForLine((l) => l.startsWith("CLOSED"), 15_000).catch(() => "");
  await proc.stop(1000);
}

/**
 * A fresh row process; `cycles` rounds of open → idle → close on it. A second round that
 * needs more memory than the first points to a leak.
 */
async function oneRun(
  row: Row,
  ctx: RowContext,
  count: number,
  config: BenchConfig,
  cycles: number,
): Promise<SessionRun> {
  const s = config.sessions;
  let running: RunningRow | undefined;
  const clients: Tracked[] = [];
  try {
    running = await row.start(ctx);
    await warmUp(running, config, clients);
    await Bun.sleep(s.settleMs / 2);
    const idle = running.pid === null ? null : treeMemory(running.pid);
    const first = await cycle(running, count, config, idle, clients);
    const later: Cycle[] = [];
    for (let i = 1; i < cycles; i++) later.push(await cycle(running, count, config, idle, clients));
    const second = later[0] ?? null;
    const { result, plateau, after } = first;
    const all = [first, ...later];
    return {
      established: result.established,
      failures: result.failures,
      failureReasons: result.failureReasons,
      sessionsPerSecond: result.sessionsPerSecond,
      setupSeconds: result.setupSeconds,
      firstByteP50Ms: result.firstByteP50Ms,
      ...(first.cpuSeconds === undefined || result.established === 0
        ? {}
        : { proxyCpuUsPerSession: (first.cpuSeconds * 1e6) / result.established }),
      memory:
        idle && plateau && after
          ? {
              idleRss: idle.rss,
              plateauRss: plateau.rss,
              afterRss: after.rss,
              idlePss: idle.pss,
              plateauPss: plateau.pss,
              afterPss: after.pss,
              afterWaitMs: first.afterWaitMs,
              processesAtPlateau: plateau.processes,
              ...(second?.plateau && second.after
                ? { secondPlateauRss: second.plateau.rss, secondAfterRss: second.after.rss }
                : {}),
              ...(later.length > 0
                ? {
                    cycleAfterRss: all.map((c) => c.after?.rss ?? Number.NaN),
                    cyclePlateauRss: all.map((c) => c.plateau?.rss ?? Number.NaN),
                  }
                : {}),
            }
          : null,
    };
  } finally {
    for (const c of clients) await c.stop(1000);
    await running?.stop();
  }
}

export async function sessionsPhase(
  rows: readonly Row[],
  ctx: RowContext,
  config: BenchConfig,
  budget: Budget,
  results: Results,
  log: (line: string) => void,
): Promise<void> {
  for (const count of config.sessions.counts) {
    const eligible = rows.filter(
      (row) => count <= (row.maxSessions?.count ?? Number.POSITIVE_INFINITY),
    );
    for (const row of rows) {
      if (!eligible.includes(row)) {
        slot(results.sessions, row.id, newByCount)[String(count)] = {
          runs: [],
          errors: [],
          skipped: `skipped: ${row.maxSessions?.why ?? "above this row's session limit"}`,
        };
      }
    }
    for (let rep = 0; rep < config.sessions.repeats; rep++) {
      for (const row of rotate(eligible, rep)) {
        const byRow = slot(results.sessions, row.id, newByCount);
        const runs = slot(byRow, String(count), () => ({
          runs: [] as SessionRun[],
          errors: [] as string[],
        }));
        const leakCheck =
          count === Math.max(...config.sessions.counts) && !row.forks && row.id !== "direct";
        const cycles = leakCheck ? config.sessions.leakCycles : 1;
        if (!budget.allows(8_000 + count * 2 * cycles)) {
          runs.errors.push(`repeat ${rep + 1} skipped: time budget`);
          continue;
        }
        try {
          const run = await oneRun(row, ctx, count, config, cycles);
          runs.runs.push(run);
          const m = run.memory;
          const mem = m
            ? `RSS ${(m.idleRss / 2 ** 20).toFixed(0)}→${(m.plateauRss / 2 ** 20).toFixed(0)}→${(m.afterRss / 2 ** 20).toFixed(0)} MiB`
            : "";
          const cpu =
            run.proxyCpuUsPerSession === undefined
              ? ""
              : `, ${run.proxyCpuUsPerSession.toFixed(0)} µs CPU/session`;
          const cyclesText = m?.cycleAfterRss
            ? `, after close per cycle ${m.cycleAfterRss.map((v) => (v / 2 ** 20).toFixed(0)).join("/")} MiB`
            : "";
          log(
            `  [${count} ${rep + 1}/${config.sessions.repeats}] ${row.id.padEnd(15)} ${run.sessionsPerSecond.toFixed(0)}/s, ${run.failures} failed${cpu} ${mem}${cyclesText}`,
          );
        } catch (error) {
          const text = error instanceof Error ? error.message : String(error);
          runs.errors.push(text.slice(0, 500));
          log(`  [${count} ${rep + 1}] ${row.id.padEnd(15)} FAILED: ${text.split("\n")[0]}`);
        }
      }
    }
  }
}
