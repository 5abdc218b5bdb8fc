// The issue's targets for socket2web, each computed as met / not met / not measured.
import { byId, MODES, type RowSummary, sessionsAt } from "./summary.ts";

export interface TargetCheck {
  target: string;
  /** What was measured, in words. */
  measured: string;
  met: boolean | null;
}

const KiB = 1024;

/** The hard open-files limit, when it is too low for a proxy holding 10,000 sessions. */
export function fdBoundOf(hardNofile: number): number | null {
  return hardNofile < 2 * 10_000 + 64 ? hardNofile : null;
}
const MB = 1e6;

function ratioCheck(
  rows: RowSummary[],
  subject: RowSummary,
  mode: (typeof MODES)[number],
  peerId: string,
  factor: number,
): TargetCheck {
  const mine = subject.throughput[mode]?.median;
  const peer = byId(rows, peerId)?.throughput[mode]?.median;
  const target = `${mode} throughput ≥ ${factor}× ${peerId}`;
  if (mine === undefined || peer === undefined)
    return { target, measured: "not measured", met: null };
  const ratio = mine / peer;
  const cpu = subject.cpuMsPerMiB[mode]?.median;
  const peerCpu = byId(rows, peerId)?.cpuMsPerMiB[mode]?.median;
  const cpuText =
    cpu === undefined || peerCpu === undefined
      ? ""
      : `; CPU ${cpu.toFixed(2)} vs ${peerCpu.toFixed(2)} ms/MiB`;
  return {
    target,
    measured: `${mine.toFixed(0)} vs ${peer.toFixed(0)} MiB/s = ${ratio.toFixed(2)}×${cpuText}`,
    met: ratio >= factor,
  };
}

const LEAN = "lean-relay";
const x = (v: number) => `${v.toFixed(2)}×`;

/**
 * Issue 15's targets: session set-up, memory and the byte path against the lean relay (the
 * cheapest Bun relay, measured in the same run), and latency against socat.
 */
export function leanTargets(rows: RowSummary[], subjectId: string): TargetCheck[] {
  const subject = byId(rows, subjectId);
  const lean = byId(rows, LEAN);
  if (!subject) return [];
  const checks: TargetCheck[] = [];
  for (const count of [1_000, 5_000]) {
    const mine = sessionsAt(subject, count);
    const peer = sessionsAt(lean, count);
    const rate = mine?.sessionsPerSecond?.median;
    const leanRate = peer?.sessionsPerSecond?.median;
    const failed = mine?.failures?.max;
    const target = `sessions/s at ${count.toLocaleString("en")} concurrent ≥ 0.9× lean relay, none failed`;
    const cpu = mine?.cpuUsPerSession?.median;
    const leanCpu = peer?.cpuUsPerSession?.median;
    const cpuText =
      cpu === undefined || leanCpu === undefined
        ? ""
        : `; CPU/session ${cpu.toFixed(0)} vs ${leanCpu.toFixed(0)} µs = ${x(cpu / leanCpu)}`;
    checks.push(
      rate === undefined || leanRate === undefined
        ? { target, measured: "not measured", met: null }
        : {
            target,
            measured: `${rate.toFixed(0)} vs ${leanRate.toFixed(0)}/s = ${x(rate / leanRate)}, ${failed ?? "?"} failed (worst run)${cpuText}`,
            met: rate >= 0.9 * leanRate && failed === 0,
          },
    );
  }
  for (const count of [1_000, 5_000]) {
    const mine = sessionsAt(subject, count)?.perSessionPss?.median;
    const peer = sessionsAt(lean, count)?.perSessionPss?.median;
    const target = `KiB/session (PSS) at ${count.toLocaleString("en")} ≤ lean relay + 2 KiB`;
    checks.push(
      mine === undefined || peer === undefined
        ? { target, measured: "not measured", met: null }
        : {
            target,
            measured: `${(mine / KiB).toFixed(1)} vs ${(peer / KiB).toFixed(1)} KiB (+${((mine - peer) / KiB).toFixed(1)})`,
            met: mine <= peer + 2 * KiB,
          },
    );
  }
  const big = sessionsAt(subject, 10_000);
  const growth = big?.lastCycleVsFirst?.median;
  const cyclesTarget = `${big?.cycles ?? 5} cycles of 10,000 sessions: RSS after the last close within 10 % of after the first`;
  checks.push(
    growth === undefined
      ? { target: cyclesTarget, measured: "not measured", met: null }
      : {
          target: cyclesTarget,
          measured: `${growth >= 0 ? "+" : ""}${(growth * 100).toFixed(1)} % (median; ${big?.lastCycleVsFirst?.min !== undefined ? `${(big.lastCycleVsFirst.min * 100).toFixed(1)} to ${(big.lastCycleVsFirst.max * 100).toFixed(1)} %` : ""})`,
          met: growth <= 0.1,
        },
  );
  if (subjectId === "socket2web-bin") {
    const source = sessionsAt(byId(rows, "socket2web"), 10_000)?.lastCycleVsFirst?.median;
    const target = "binary's growth over the cycles no worse than the source's (2 points of slack)";
    checks.push(
      growth === undefined || source === undefined
        ? { target, measured: "not measured", met: null }
        : {
            target,
            measured: `${(growth * 100).toFixed(1)} % vs ${(source * 100).toFixed(1)} %`,
            met: growth <= source + 0.02,
          },
    );
  }
  for (const p of ["p50", "p99"] as const) {
    const mine = subject.setup[p]?.median;
    const peer = lean?.setup[p]?.median;
    const target = `upgrade → connected ${p} ≤ 1.1× lean relay`;
    checks.push(
      mine === undefined || peer === undefined
        ? { target, measured: "not measured", met: null }
        : {
            target,
            measured: `${mine.toFixed(0)} vs ${peer.toFixed(0)} µs = ${x(mine / peer)}`,
            met: mine <= 1.1 * peer,
          },
    );
  }
  for (const mode of MODES) checks.push(ratioCheck(rows, subject, mode, LEAN, 0.95));
  const socat = byId(rows, "socat");
  for (const p of ["p50", "p99"] as const) {
    const mine = subject.latency[p]?.median;
    const peer = socat?.latency[p]?.median;
    checks.push(
      mine === undefined || peer === undefined
        ? { target: `latency ${p} ≤ socat`, measured: "not measured", met: null }
        : {
            target: `latency ${p} ≤ socat`,
            measured: `${mine.toFixed(0)} vs ${peer.toFixed(0)} µs = ${x(mine / peer)}`,
            met: mine <= peer,
          },
    );
  }
  return checks;
}

/**
 * The first benchmark issue's targets (absolute figures and the other relays).
 * `fdBound`: the hard open-files limit when it is too low for 10,000 sessions (2 fds each),
 * else null.
 */
export function checkTargets(
  rows: RowSummary[],
  subjectId: string,
  fdBound: number | null = null,
): TargetCheck[] {
  const subject = byId(rows, subjectId);
  if (!subject) return [];
  const checks: TargetCheck[] = [];
  for (const mode of MODES) {
    checks.push(ratioCheck(rows, subject, mode, "ws-ceiling", 0.9));
    checks.push(ratioCheck(rows, subject, mode, "socat", 0.9));
    checks.push(ratioCheck(rows, subject, mode, "websockify", 3));
    checks.push(ratioCheck(rows, subject, mode, "wisp-js", 3));
  }
  for (const count of [1_000, 5_000]) {
    const s = sessionsAt(subject, count);
    const rate = s?.sessionsPerSecond?.median;
    checks.push({
      target: `session setup ≥ 5,000/s at ${count.toLocaleString("en")} concurrent`,
      measured:
        rate === undefined
          ? "not measured"
          : `${rate.toFixed(0)}/s, ${s?.failures?.median ?? "?"} failed (median)`,
      met: rate === undefined ? null : rate >= 5_000 && (s?.failures?.median ?? 1) === 0,
    });
  }
  const big = sessionsAt(subject, 10_000);
  const perSession = big?.perSessionBytes?.median;
  const plateau = big?.plateauRss?.median;
  const after = big?.afterVsIdle?.median;
  const failures = big?.failures?.median;
  const growth = big?.secondCycleGrowth?.median;
  checks.push({
    target: "10,000 concurrent sessions established",
    measured:
      failures === undefined
        ? "not measured"
        : `${failures} of 10,000 failed (median)${failures > 0 && fdBound ? `; the proxy needs 2 fds per session and the hard open-files limit here is ${fdBound} (see notes)` : ""}`,
    met: failures === undefined ? null : failures === 0,
  });
  checks.push({
    target: "10,000 sessions at ≤ 8 KiB proxy memory per session",
    measured:
      perSession === undefined
        ? "not measured"
        : `${(perSession / KiB).toFixed(1)} KiB/session (RSS growth / established sessions)`,
    met: perSession === undefined ? null : perSession <= 8 * KiB,
  });
  checks.push({
    target: "10,000 sessions at ≤ 150 MB RSS total",
    measured:
      plateau === undefined ? "not measured" : `${(plateau / MB).toFixed(0)} MB RSS at plateau`,
    met: plateau === undefined ? null : plateau <= 150 * MB,
  });
  checks.push({
    target: "RSS back within 10 % of idle after close",
    measured:
      after === undefined
        ? "not measured"
        : `${(after * 100).toFixed(0)} % above idle` +
          (growth === undefined
            ? ""
            : `; a second 10,000-session cycle peaked ${(growth / MB).toFixed(1)} MB above the first (a leak would grow it)`),
    met: after === undefined ? null : after <= 0.1,
  });
  const startup = byId(rows, "socket2web-bin")?.startupAcceptMs?.median;
  checks.push({
    target: "compiled binary accepts first connection ≤ 25 ms after start",
    measured: startup === undefined ? "not measured" : `${startup.toFixed(1)} ms (median)`,
    met: startup === undefined ? null : startup <= 25,
  });
  return checks;
}
