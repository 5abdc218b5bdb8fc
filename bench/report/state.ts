// docs/benchmarks/state.md: the state phase's medians, the Redis commands per session, the round
// trip alone, and where the added time goes, each figure from the same run.
import { median } from "../lib/stats.ts";
import { medianOf, type StateResults, type StateRun } from "../phases/state.ts";
import type { UpgradeAwaitRun } from "../phases/state-probes.ts";
import { UPGRADE_WAITS } from "../servers/upgrade-await.ts";
import type { RoundTrip } from "../workloads/redis-round-trip.ts";

const fixed = (value: number | undefined, digits: number): string =>
  value === undefined || !Number.isFinite(value) ? "-" : value.toFixed(digits);

const range = (runs: StateRun[], pick: (run: StateRun) => number, digits: number): string => {
  const values = runs.map(pick).filter((v) => Number.isFinite(v));
  if (values.length === 0) return "-";
  const mid = fixed(medianOf(runs, pick), digits);
  return values.length === 1
    ? mid
    : `${mid} (${fixed(Math.min(...values), digits)}–${fixed(Math.max(...values), digits)})`;
};

/** Where each command Redis counts comes from (commands a script runs are counted too). */
const ORIGIN: Record<string, string> = {
  eval: "**sent by the proxy**: the admission script at upgrade, the release script at close",
  evalsha: "sent by the proxy (not used: it sends EVAL with the script's body)",
  time: "inside the admission script (exactly once per admission)",
  hmget: "inside the admission script (rate bucket)",
  hgetall: "inside the admission script (the address's counts per instance)",
  exists: "inside the admission script (another instance's lease)",
  hset: "inside the admission script (rate bucket); also the lease renewal, sent by the proxy",
  pexpire:
    "inside the admission script (bucket and counts); also the lease renewal, sent by the proxy",
  hincrby: "inside the admission script (a slot held) and the release script (given back)",
  hdel: "inside the release script (the count back at 0) or admission (a dead instance's)",
  set: "sent by the proxy: the lease renewal (every third of `--state-lease`)",
  del: "sent by the proxy at shutdown",
  hello: "sent by the client library on connecting",
};

/** Per session, medians over the runs: calls, and Redis's own µs per call over all of them. */
function commandRows(runs: StateRun[]): string[] {
  const names = [...new Set(runs.flatMap((run) => Object.keys(run.commands)))].sort(
    (a, b) => (b === "eval" ? 1 : 0) - (a === "eval" ? 1 : 0) || a.localeCompare(b),
  );
  return names.map((name) => {
    const perSession = medianOf(runs, (run) => (run.commands[name]?.calls ?? 0) / run.sessions);
    const calls = runs.reduce((sum, run) => sum + (run.commands[name]?.calls ?? 0), 0);
    const usec = runs.reduce((sum, run) => sum + (run.commands[name]?.usec ?? 0), 0);
    return `| ${name.toUpperCase()} | ${fixed(perSession, 3)} | ${fixed(usec / calls, 1)} | ${ORIGIN[name] ?? ""} |`;
  });
}

const admissions = (run: StateRun) => (run.commands.time?.calls ?? 0) / run.sessions;
const releases = (run: StateRun) =>
  ((run.commands.eval?.calls ?? 0) - (run.commands.time?.calls ?? 0)) / run.sessions;

function roundTripRows(trips: RoundTrip[]): string[] {
  const what: Record<string, string> = {
    ping: "PING",
    "eval-admit": "EVAL admission script (as the proxy sends it, body and all)",
    "eval-release": "EVAL release script",
    "evalsha-admit": "EVALSHA admission script (the body cached in Redis)",
  };
  return trips.map(
    (t) =>
      `| ${what[t.kind] ?? t.kind} | ${t.requestBytes} | ${fixed(t.p50Us, 0)} | ${fixed(t.p99Us, 0)} | ${fixed(t.redisUsecPerCall, 1)} |`,
  );
}

const WAIT_LABEL: Record<string, string> = {
  sync: "nothing (upgrade in `fetch`)",
  microtask: "a resolved promise",
  "loop-turn": "one event-loop turn (`Bun.sleep(0)`)",
  "redis-eval": "the admission script's `EVAL` (release's at close)",
};

const bareMedian = (
  results: StateResults,
  wait: string,
  pick: (run: UpgradeAwaitRun) => number,
): number =>
  median((results.upgradeAwait[wait as keyof typeof results.upgradeAwait] ?? []).map(pick));

function upgradeAwaitRows(results: StateResults): string[] {
  return UPGRADE_WAITS.filter((wait) => results.upgradeAwait[wait]).map((wait) => {
    const m = (pick: (run: UpgradeAwaitRun) => number) => bareMedian(results, wait, pick);
    return (
      `| ${WAIT_LABEL[wait]} | ${fixed(
        m((r) => r.sequentialP50Us),
        0,
      )} | ${fixed(
        m((r) => r.sequentialP99Us),
        0,
      )} | ` +
      `${fixed(
        m((r) => r.perSecond),
        0,
      )} | ${fixed(
        m((r) => r.concurrentP50Ms),
        2,
      )} | ${fixed(
        m((r) => r.serverCpuUs),
        0,
      )} |`
    );
  });
}

/** The "where the time goes" lines for one build (source or binary), from the medians. */
function whereTimeGoes(results: StateResults, build: "source" | "binary"): string[] {
  const local = results.runs[`${build}-local`] ?? [];
  const shared = results.runs[`${build}-redis`] ?? [];
  if (local.length === 0 || shared.length === 0) return [];
  const m = (runs: StateRun[], pick: (run: StateRun) => number) => medianOf(runs, pick);
  const seqDelta = m(shared, (r) => r.sequential.p50Ms) - m(local, (r) => r.sequential.p50Ms);
  const upDelta =
    m(shared, (r) => r.sequential.upgradeP50Ms) - m(local, (r) => r.sequential.upgradeP50Ms);
  const conDelta = m(shared, (r) => r.concurrent.p50Ms) - m(local, (r) => r.concurrent.p50Ms);
  const rate = m(shared, (r) => r.concurrent.sessionsPerSecond);
  const rateLocal = m(local, (r) => r.concurrent.sessionsPerSecond);
  const cpuDelta =
    m(shared, (r) => r.proxyCpuUsPerSession) - m(local, (r) => r.proxyCpuUsPerSession);
  const redisCpu = m(shared, (r) => r.redisCpuUsPerSession);
  const trip = results.roundTrips?.find((t) => t.kind === "eval-admit");
  // Each repeat's two runs ran next to each other: their ratio is the least disturbed by drift.
  const paired = shared.flatMap((r) => {
    const other = local.find((l) => l.repeat === r.repeat);
    return other ? [{ shared: r, local: other }] : [];
  });
  const pairRatio = median(
    paired.map((p) => p.shared.concurrent.sessionsPerSecond / p.local.concurrent.sessionsPerSecond),
  );
  const pairSeq = median(paired.map((p) => p.shared.sequential.p50Ms - p.local.sequential.p50Ms));
  const alone = m(shared, (r) => r.upgradeOnly.p50Us) - m(local, (r) => r.upgradeOnly.p50Us);
  const sign = (value: number) => (value >= 0 ? "+" : "");
  return [
    `- **${build}**: one at a time, \`--state redis\` adds ${fixed(seqDelta * 1000, 0)} µs to the set-up p50 ` +
      `(${fixed(upDelta * 1000, 0)} µs of it before the WebSocket opens, where admission waits for Redis); ` +
      `the admission round trip alone is ${fixed(trip?.p50Us, 0)} µs from Bun's client at idle, ` +
      `of which Redis runs the script for ${fixed(trip?.redisUsecPerCall, 1)} µs. ` +
      `At ${results.config.concurrency} in progress: ${fixed(rate, 0)} vs ${fixed(rateLocal, 0)} sessions/s ` +
      `(${fixed((rate / rateLocal - 1) * 100, 0)} %), p50 ${sign(conDelta)}${fixed(conDelta * 1000, 0)} µs; ` +
      `the proxy spends ${sign(cpuDelta)}${fixed(cpuDelta, 0)} µs CPU per session and ` +
      `redis-server ${fixed(redisCpu, 0)} µs per session, on the same 2 cores. Paired by repeat ` +
      `(the two runs next to each other), the median ratio of sessions/s is ${fixed(pairRatio, 2)} and ` +
      `the one-at-a-time p50 grows by ${fixed(pairSeq * 1000, 0)} µs. An upgrade alone (close awaited, ` +
      `as the bare Bun server's) takes ${fixed(alone, 0)} µs longer. ` +
      `By CPU alone, one proxy core would set up ${fixed(1e6 / m(local, (r) => r.proxyCpuUsPerSession), 0)} ` +
      `sessions/s in process and ${fixed(1e6 / m(shared, (r) => r.proxyCpuUsPerSession), 0)} with \`--state\`; ` +
      `one redis-server core, ${fixed(1e6 / redisCpu, 0)} sessions/s for the whole fleet.`,
  ];
}

const KIND_LABEL: Record<string, string> = {
  "EVAL/13": "`EVAL` of the admission script (13 parts)",
  "EVAL/5": "`EVAL` of the release script (5 parts: another session's close, pipelined)",
};

const spreadOf = (byCount: Record<string, number>): string =>
  Object.entries(byCount)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([n, upgrades]) => `${n} in ${upgrades}`)
    .join(", ");

function wireLines(wire: NonNullable<StateResults["wire"]>): string[] {
  return [
    "### On the wire",
    "",
    `The \`${wire.row}\` proxy under \`strace -f\`, ${wire.upgrades} upgrades one at a time (warm-up`,
    "included; no greeting or target: admission is all before the 101). Between reading each",
    "upgrade request and writing its `101 Switching Protocols`, what the proxy wrote to Redis and",
    "read from it (per kind: how many per upgrade, in how many upgrades):",
    "",
    "| on the Redis socket | per upgrade |",
    "|---|---|",
    ...Object.entries(wire.commands).map(
      ([kind, byCount]) => `| written: ${KIND_LABEL[kind] ?? kind} | ${spreadOf(byCount)} |`,
    ),
    `| reads (answers; two answers may come in one read) | ${spreadOf(wire.redisReads)} |`,
  ];
}

/** What awaiting Redis costs a bare Bun upgrade, from the same run. */
function bareLine(results: StateResults): string[] {
  if (!results.upgradeAwait.sync || !results.upgradeAwait["redis-eval"]) return [];
  const m = (wait: string, pick: (run: UpgradeAwaitRun) => number) =>
    bareMedian(results, wait, pick);
  const added = m("redis-eval", (r) => r.sequentialP50Us) - m("sync", (r) => r.sequentialP50Us);
  const turn = m("loop-turn", (r) => r.sequentialP50Us) - m("sync", (r) => r.sequentialP50Us);
  const cpu = m("redis-eval", (r) => r.serverCpuUs) - m("sync", (r) => r.serverCpuUs);
  const rate = m("redis-eval", (r) => r.perSecond) / m("sync", (r) => r.perSecond) - 1;
  const trip = results.roundTrips?.find((t) => t.kind === "eval-admit");
  return [
    `- **Bun alone** (no Socket2Web): awaiting the admission \`EVAL\` before \`server.upgrade\` adds ` +
      `${fixed(added, 0)} µs to an upgrade one at a time (an event-loop turn alone: ${fixed(turn, 0)} µs; ` +
      `the round trip from Bun's client at idle: ${fixed(trip?.p50Us, 0)} µs, Redis's own part ` +
      `${fixed(trip?.redisUsecPerCall, 1)} µs) and ${fixed(cpu, 0)} µs of server CPU per upgrade ` +
      `(both \`EVAL\`s); upgrades/s at ${results.config.concurrency} in progress change by ${fixed(rate * 100, 0)} %.`,
  ];
}

export function stateReport(results: StateResults): string[] {
  const c = results.config;
  const measured = results.rows.filter((row) => (results.runs[row.id]?.length ?? 0) > 0);
  const lines = [
    "## Shared state on Redis: session set-up with `--state redis` vs limits in process",
    "",
    `The same socket2web (${results.machine.socket2web}) with \`--max-connections-per-ip ${c.perIp}`,
    `--rate-limit ${c.rate}\` (on, and high enough to refuse nothing), its limits counted in`,
    `process or through \`--state redis://127.0.0.1:PORT\` against Debian's redis-server ${results.machine.redis}`,
    "on loopback, started by the bench. A fresh proxy per run; each build's two rows run next to",
    "each other, the order of all four reversed every repeat (the in-process row first, then",
    `second); medians of ${c.repeats} (min–max). Each run: ${c.warmup} set-ups of warm-up, then`,
    `${c.sessions} complete set-ups with ${c.concurrency} in progress (WebSocket upgrade, greeting,`,
    "handshake, `connected` from a loopback TCP target, then closed at once), then",
    `${c.sequential} one at a time. Set-up time is dialling → \`connected\`; "upgrade" is the part`,
    "before the WebSocket opens (TCP connect, HTTP upgrade and admission, which with `--state` waits",
    "for its Redis round trip). CPU is each process's user + system over the concurrent part",
    "(`/proc`, in 10 ms ticks: about ±5 µs per session). Last, the same number of upgrades alone",
    "(no greeting or handshake, each close awaited before the next dial), as the bare Bun server",
    "below is measured.",
    `Machine: ${results.machine.nproc} CPUs (${results.machine.cpuModel}), Bun ${results.machine.bun};`,
    `load average (1 min) ${results.load.before} before and ${results.load.after} after the phase —`,
    "the machine is shared with other work, so compare only figures of one run. With a load above",
    "the 2 cores, the rate at 32 in progress moves by tens of per cent from run to run (see the",
    "min–max) whatever the row; the one-at-a-time times and the CPU per session hold much better.",
    "",
    `| row | sessions/s at ${c.concurrency} | set-up p50 ms | set-up p99 ms | upgrade p50 ms | one at a time p50 ms | p99 ms | upgrade p50 ms | upgrade alone p50 µs | proxy CPU µs/session | redis-server CPU µs/session |`,
    "|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const row of measured) {
    const runs = results.runs[row.id] ?? [];
    lines.push(
      `| ${row.label} | ${range(runs, (r) => r.concurrent.sessionsPerSecond, 0)} | ` +
        `${range(runs, (r) => r.concurrent.p50Ms, 2)} | ${range(runs, (r) => r.concurrent.p99Ms, 2)} | ` +
        `${fixed(
          medianOf(runs, (r) => r.concurrent.upgradeP50Ms),
          2,
        )} | ` +
        `${range(runs, (r) => r.sequential.p50Ms, 3)} | ${range(runs, (r) => r.sequential.p99Ms, 2)} | ` +
        `${fixed(
          medianOf(runs, (r) => r.sequential.upgradeP50Ms),
          3,
        )} | ` +
        `${range(runs, (r) => r.upgradeOnly.p50Us, 0)} | ` +
        `${range(runs, (r) => r.proxyCpuUsPerSession, 0)} | ${range(runs, (r) => r.redisCpuUsPerSession, 0)} |`,
    );
  }
  lines.push(
    "",
    `Cores busy over the concurrent part (CPU seconds per second; 2 cores in all, shared):`,
    "",
    "| row | proxy | redis-server | load client |",
    "|---|---|---|---|",
    ...measured.map((row) => {
      const runs = results.runs[row.id] ?? [];
      return `| ${row.label} | ${range(runs, (r) => r.cores.proxy, 2)} | ${range(runs, (r) => r.cores.redis, 2)} | ${range(runs, (r) => r.cores.client, 2)} |`;
    }),
  );
  const failures = measured.flatMap((row) =>
    (results.runs[row.id] ?? [])
      .filter((r) => r.concurrent.failures + r.sequential.failures > 0)
      .map(
        (r) =>
          `${row.label}: ${r.concurrent.failures + r.sequential.failures} failed (${JSON.stringify({ ...r.concurrent.failureReasons, ...r.sequential.failureReasons })})`,
      ),
  );
  lines.push("", failures.length === 0 ? "No set-up failed." : `Failures: ${failures.join("; ")}`);
  const logged = measured.flatMap((row) =>
    (results.runs[row.id] ?? []).flatMap((r) =>
      Object.entries(r.warnings).flatMap(([when, said]) =>
        said.map((line) => `- ${row.label}, repeat ${r.repeat + 1}, ${when}: ${line}`),
      ),
    ),
  );
  if (logged.length > 0) {
    lines.push(
      "",
      "The proxy logged of its state store (a command unanswered for 250 ms counts as Redis gone:",
      "admissions count in process until it reconnects, 100 ms or more later):",
      "",
      ...logged,
    );
  }

  const shared = measured.filter((row) => row.redis).flatMap((row) => results.runs[row.id] ?? []);
  const inProcess = measured
    .filter((row) => !row.redis)
    .flatMap((row) => results.runs[row.id] ?? []);
  if (shared.length > 0) {
    const admit = shared.map(admissions);
    const release = shared.map(releases);
    lines.push(
      "",
      "### Redis commands per session (`INFO commandstats`)",
      "",
      "Counted over the three measured parts of every `--state redis` run (source and binary),",
      "divided by the sessions set up, after waiting for the releases that follow each close; the harness's own",
      "commands are left out. Redis counts the commands a script runs as well as the script, so only",
      "the rows marked *sent by the proxy* are round trips. Admissions are the `TIME` calls (once per",
      "admission script); releases are the other `EVAL`s.",
      "",
      `Admission round trips per session: ${fixed(Math.min(...admit), 3)}–${fixed(Math.max(...admit), 3)};`,
      `release round trips per session: ${fixed(Math.min(...release), 3)}–${fixed(Math.max(...release), 3)};`,
      `Redis read the proxy's commands in ${fixed(
        medianOf(shared, (r) => r.reads / Math.max(1, r.commands.eval?.calls ?? 0)),
        2,
      )}`,
      "socket reads per `EVAL` (median; below 1: several commands arrived in one read, pipelined).",
      `\`EVALSHA\`: ${shared.some((r) => r.commands.evalsha) ? "used" : "none"}. In-process runs: ${
        inProcess.some((r) => Object.keys(r.commands).length > 0)
          ? "some commands (see results)"
          : "no command at all"
      }.`,
      "",
      "| command | calls per session | Redis µs per call | from |",
      "|---|---|---|---|",
      ...commandRows(shared),
    );
  }
  if (results.wire) lines.push("", ...wireLines(results.wire));
  if (Object.keys(results.upgradeAwait).length > 0) {
    lines.push(
      "",
      "### An upgrade that waits for Redis, in Bun alone",
      "",
      "A bare `Bun.serve` (`bench/servers/upgrade-await.ts`: no Socket2Web, no greeting, no target)",
      "that upgrades every request after waiting for one thing; a client process times dial → open,",
      `one at a time, then ${c.sessions} with ${c.concurrency} in progress, each closed at once. Same`,
      "redis-server, the same script and arguments as `--state`; waits rotated, medians of up to 3 repeats.",
      "",
      `| upgrade after | one at a time p50 µs | p99 µs | upgrades/s at ${c.concurrency} | p50 ms at ${c.concurrency} | server CPU µs per upgrade |`,
      "|---|---|---|---|---|---|",
      ...upgradeAwaitRows(results),
    );
  }
  if (results.roundTrips) {
    lines.push(
      "",
      "### The round trip alone",
      "",
      "Bun's RedisClient (the proxy's client) in a process of its own, at idle after the runs, one",
      "command at a time, 2,000 of each: send → answer in the client, beside Redis's own time per",
      "call (`usec_per_call`, the script's commands included).",
      "",
      "| request | bytes sent | p50 µs | p99 µs | Redis µs per call |",
      "|---|---|---|---|---|",
      ...roundTripRows(results.roundTrips),
    );
  }
  const where = [
    ...whereTimeGoes(results, "source"),
    ...whereTimeGoes(results, "binary"),
    ...bareLine(results),
  ];
  if (where.length > 0)
    lines.push("", "### Where the time goes (this run's medians)", "", ...where);
  const notRun = results.rows.filter((row) => row.unavailable);
  if (notRun.length > 0) {
    lines.push("", "Not run:", "", ...notRun.map((row) => `- ${row.label}: ${row.unavailable}`));
  }
  if (results.errors.length > 0) {
    lines.push("", "Errors:", "", ...results.errors.map((e) => `- ${e}`));
  }
  return lines;
}

// Re-renders the report from its JSON: `bun run bench/report/state.ts docs/benchmarks/state.json`.
if (import.meta.main) {
  const file = process.argv[2] ?? "docs/benchmarks/state.json";
  const results = (await Bun.file(file).json()) as StateResults;
  await Bun.write(file.replace(/\.json$/, ".md"), `${stateReport(results).join("\n")}\n`);
}
