// Entry point of `make bench` / `make bench-quick`: starts the target, runs every workload
// against every row, writes results JSON, the Markdown report and SVG plots under
// docs/benchmarks/ (quick runs under docs/benchmarks/quick/).
//   --quick          smaller sizes, one repeat
//   --rows=a,b       only these rows (ids: direct, socat, websockify, wisp-js, ws-ceiling,
//                    lean-relay, socket2web, socket2web-tls, socket2web-url, socket2web-route,
//                    socket2web-bin; opt-in: forward, socks, socks-mux)
//   --phases=a,b     only these phases (stream, sessions, startup, wisp, wispmark; opt-in:
//                    state, `--state redis` vs limits in process, needs redis-server)
//   --state-repeats=N, --state-sessions=N   the state phase's repeats and set-ups per run
//   --wispmark-seconds=N, --wispmark-repeats=N, --wispmark-servers=a,b   the WispMark phase's
//                    window, repeats and servers (socket2web, socket2web-bin, wisp-js, and
//                    socket2web-base: BENCH_WISPMARK_BASE_ENTRY=other/src/main.ts);
//   --wispmark-shapes=1,10,5x10   only these stream counts
//   --counts=a,b     session counts instead of the configured ones; --session-repeats=N likewise
//   --out=NAME       write under docs/benchmarks/NAME/ (a partial run beside the full report)
import { mkdirSync, writeFileSync } from "node:fs";
import { makeCertificate, tempDir } from "../tests/helpers/tls-cert.ts";
import { benchConfig } from "./config.ts";
import { ensureBinary } from "./lib/build.ts";
import { installCleanup, spawnTracked, stopAll } from "./lib/procs.ts";
import { Budget } from "./phases/clock.ts";
import { sessionsPhase } from "./phases/sessions.ts";
import { startupPhase } from "./phases/startup.ts";
import { statePhase } from "./phases/state.ts";
import { streamPhase } from "./phases/stream.ts";
import { wispPhase, wispReport } from "./phases/wisp.ts";
import { wispmarkPhase, wispmarkReport } from "./phases/wispmark.ts";
import { latencySvg, memorySvg, throughputSvg } from "./report/charts.ts";
import { consoleSummary } from "./report/console.ts";
import { describeMachine, describeSocket2web } from "./report/machine.ts";
import { renderReport } from "./report/markdown.ts";
import { stateReport } from "./report/state.ts";
import { summarize } from "./report/summary.ts";
import { checkTargets, fdBoundOf, leanTargets } from "./report/targets.ts";
import type { Results } from "./results.ts";
import { ROWS } from "./rows/index.ts";
import { BUN, ROOT } from "./rows/row.ts";

function flag(name: string): string | undefined {
  const arg = process.argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (arg === undefined) return undefined;
  return arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : "";
}

/** `--name=N` as `{ [key]: N }`, or nothing when absent. */
function numberFlag<K extends string>(name: string, key: K): { [P in K]?: number } {
  const value = flag(name);
  return value ? ({ [key]: Number(value) } as { [P in K]?: number }) : {};
}

const t0 = Date.now();
function log(line: string): void {
  console.log(`${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s ${line}`);
}

async function main(): Promise<void> {
  installCleanup();
  const quick = flag("quick") !== undefined;
  const config = benchConfig(quick);
  const counts = flag("counts");
  if (counts) config.sessions.counts = counts.split(",").map(Number);
  const sessionRepeats = flag("session-repeats");
  if (sessionRepeats) config.sessions.repeats = Number(sessionRepeats);
  const budget = new Budget(config.budgetMs);
  const onlyRows = flag("rows")?.split(",");
  const phases = new Set(
    flag("phases")?.split(",") ?? ["stream", "sessions", "startup", "wisp", "wispmark"],
  );
  const outName = flag("out") ?? (quick ? "quick" : "");
  if (!/^[a-z0-9-]*$/.test(outName)) throw new Error("--out takes a plain folder name");
  const outDir = `${ROOT}docs/benchmarks${outName ? `/${outName}` : ""}`;
  mkdirSync(outDir, { recursive: true });

  const notes: string[] = [];
  await ensureBinary(notes, log);
  const machine = describeMachine();
  const fdBound = fdBoundOf(machine.hardNofile);
  if (fdBound !== null) {
    notes.push(
      `The hard open-files limit is ${fdBound} and cannot be raised here (no CAP_SYS_RESOURCE): ` +
        "a one-process proxy needs 2 fds per session (client WebSocket + target TCP) plus its own, " +
        "so the last few of 10,000 sessions fail (socket2web answers connect_failed). " +
        "Forking relays (socat, websockify) and ws-ceiling (1 fd per session) are not affected.",
    );
  }
  // Opt-in rows run only when --rows names them.
  const rows = ROWS.filter((r) => (onlyRows ? onlyRows.includes(r.id) : !r.optIn));
  const results: Results = {
    startedAt: new Date().toISOString(),
    finishedAt: "",
    config,
    machine,
    rows: rows.map((r) => ({ id: r.id, label: r.label, unavailable: r.unavailable() })),
    throughput: {},
    latency: {},
    setup: {},
    sessions: {},
    startup: {},
    notes,
  };
  const runnable = rows.filter((r) => r.unavailable() === null);
  for (const r of rows) {
    const why = r.unavailable();
    if (why) log(`row ${r.id} not run: ${why}`);
  }
  log(`machine: ${machine.nproc} CPUs, ${machine.cpuModel}, Bun ${machine.bun}, ${machine.kernel}`);

  let targetGone = (): string[] => [];
  try {
    // The same target over TLS too, for the tls adapter's row, with a certificate made here.
    const certificate = await makeCertificate(tempDir("socket2web-bench-tls-"), "bench-target");
    const target = spawnTracked("target", [
      BUN,
      "run",
      `${ROOT}bench/targets/server.ts`,
      "127.0.0.1",
      "0",
      certificate.certFile,
      certificate.keyFile,
    ]);
    targetGone = () =>
      target.proc.exitCode === null && target.proc.signalCode === null
        ? []
        : [
            `the target process ended during the run (${target.proc.exitCode ?? target.proc.signalCode}): ${target.output().slice(-300)}`,
          ];
    const line = await target.waitForLine((l) => l.startsWith("{"), 10_000);
    const ports = JSON.parse(line) as { port: number; tlsPort: number };
    const ctx = {
      targetHost: "127.0.0.1",
      targetPort: ports.port,
      targetTlsPort: ports.tlsPort,
      targetCaFile: certificate.certFile,
    };

    // First, while the machine is quiet: thousands of forked relays are still exiting after
    // the session runs.
    if (phases.has("startup")) {
      log("start-up");
      await startupPhase(
        config,
        budget,
        results,
        {
          binary: runnable.some((r) => r.id === "socket2web-bin"),
          source: runnable.some((r) => r.id === "socket2web"),
        },
        log,
      );
    }
    if (phases.has("stream")) {
      log(`throughput + latency (${config.repeats} repeats)`);
      const streaming = runnable.filter((r) => !r.sessionsOnly);
      await streamPhase(streaming, ctx, config, budget, results, log);
    }
    // Before the sessions, whose later counts are the first to give way to the time budget.
    if (phases.has("wisp")) {
      log("wisp: wisp-js client against socket2web --wisp and the wisp-js server");
      results.wisp = await wispPhase(
        { host: ctx.targetHost, port: ctx.targetPort },
        quick,
        budget,
        log,
      );
    }
    if (phases.has("wispmark")) {
      log("wispmark: wisp-js client processes, 50 KiB sends to an echo target");
      const wispmark = await wispmarkPhase(
        {
          quick,
          ...numberFlag("wispmark-seconds", "seconds"),
          ...numberFlag("wispmark-repeats", "repeats"),
          ...(flag("wispmark-servers") ? { only: flag("wispmark-servers")?.split(",") } : {}),
          ...(flag("wispmark-shapes") ? { shapes: flag("wispmark-shapes")?.split(",") } : {}),
        },
        budget,
        log,
      );
      const lines = wispmarkReport(wispmark);
      writeFileSync(`${outDir}/wispmark.md`, `${lines.join("\n")}\n`);
      writeFileSync(`${outDir}/wispmark.json`, `${JSON.stringify(wispmark, null, 2)}\n`);
      for (const line of lines.filter((l) => l.startsWith("|"))) log(line);
    }
    if (phases.has("state")) {
      log("state: socket2web with --state redis vs limits in process, a redis-server on loopback");
      const state = await statePhase(
        {
          quick,
          ...numberFlag("state-repeats", "repeats"),
          ...numberFlag("state-sessions", "sessions"),
        },
        ctx,
        {
          nproc: machine.nproc,
          cpuModel: machine.cpuModel,
          bun: machine.bun,
          socket2web: describeSocket2web(),
        },
        budget,
        log,
      );
      const lines = stateReport(state);
      writeFileSync(`${outDir}/state.md`, `${lines.join("\n")}\n`);
      writeFileSync(`${outDir}/state.json`, `${JSON.stringify(state, null, 2)}\n`);
      log(`wrote ${outDir}/state.md, state.json`);
    }
    if (phases.has("sessions")) {
      log(`sessions ${config.sessions.counts.join(", ")} (${config.sessions.repeats} repeats)`);
      await sessionsPhase(runnable, ctx, config, budget, results, log);
    }
  } catch (error) {
    notes.push(`bench aborted: ${error instanceof Error ? error.message : String(error)}`);
    log(`bench aborted: ${error instanceof Error ? error.stack : String(error)}`);
    process.exitCode = 1;
  } finally {
    for (const line of targetGone()) {
      notes.push(line);
      log(line);
    }
    await stopAll();
    results.finishedAt = new Date().toISOString();
    if (results.wisp && Object.keys(results.wisp.runs).length === 0) {
      // Nothing measured (time budget, errors): the last Wisp report stays as it is.
      log(`wisp: nothing measured (${results.wisp.errors.join("; ")}); wisp.md left as it was`);
    } else if (results.wisp) {
      const wispLines = wispReport(results.wisp);
      writeFileSync(`${outDir}/wisp.md`, `${wispLines.join("\n")}\n`);
      writeFileSync(`${outDir}/wisp.json`, `${JSON.stringify(results.wisp, null, 2)}\n`);
      for (const line of wispLines.filter((l) => l.startsWith("|"))) log(line);
    }
    // A run of the phases with reports of their own alone leaves the main report as it is.
    if ([...phases].some((phase) => !["wisp", "wispmark", "state"].includes(phase)))
      writeMainReport(results, outDir, machine);
    else if (results.wisp) log(`wrote ${outDir}/wisp.md, wisp.json`);
    if (phases.has("wispmark")) log(`wrote ${outDir}/wispmark.md, wispmark.json`);
  }
}

function writeMainReport(results: Results, outDir: string, machine: Results["machine"]): void {
  const summary = summarize(results);
  const svg = {
    "throughput.svg": throughputSvg(summary),
    "latency.svg": latencySvg(summary),
    "memory.svg": memorySvg(summary),
  };
  for (const [name, text] of Object.entries(svg)) writeFileSync(`${outDir}/${name}`, text);
  writeFileSync(`${outDir}/results.json`, `${JSON.stringify(results, null, 2)}\n`);
  const wisp = results.wisp ? `\n${wispReport(results.wisp).join("\n")}\n` : "";
  writeFileSync(
    `${outDir}/REPORT.md`,
    renderReport(results, summary, { svg: Object.keys(svg) }) + wisp,
  );
  for (const line of consoleSummary(summary)) log(line);
  for (const id of ["socket2web-bin", "socket2web"]) {
    const checks = [
      ...leanTargets(summary, id),
      ...checkTargets(summary, id, fdBoundOf(machine.hardNofile)),
    ];
    if (checks.length === 0) continue;
    log(`targets (${id}):`);
    for (const c of checks) {
      log(
        `  ${c.met === null ? "n/a    " : c.met ? "met    " : "NOT MET"} ${c.target}: ${c.measured}`,
      );
    }
  }
  log(
    `wrote ${outDir}/REPORT.md, results.json, *.svg in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  );
}

await main();
process.exit();
