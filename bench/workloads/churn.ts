// Session churn, client side: complete session set-ups (WebSocket upgrade, greeting, handshake,
// `connected` status from a loopback TCP target), each closed at once, with a fixed number in
// progress. Each set-up is timed from dialling to `connected`, and split at the WebSocket's open:
// the upgrade (where admission, and with `--state` its Redis round trip, happens) and the rest.
import { dial } from "../client/dial.ts";
import type { Endpoint } from "../client/endpoint.ts";
import { percentileSorted } from "../lib/stats.ts";

export interface ChurnOptions {
  sessions: number;
  /** Set-ups in progress at once. */
  concurrency: number;
  perSessionTimeoutMs: number;
}

export interface ChurnResult {
  concurrency: number;
  established: number;
  failures: number;
  failureReasons: Record<string, number>;
  seconds: number;
  sessionsPerSecond: number;
  /** Dial → `connected`, ms. */
  p50Ms: number;
  p99Ms: number;
  /** Dial → WebSocket open (TCP connect, HTTP upgrade, admission), ms. */
  upgradeP50Ms: number;
  upgradeP99Ms: number;
  /** WebSocket open → `connected` (greeting, handshake, target connect), ms. */
  handshakeP50Ms: number;
  /** This client's CPU (user + system) over the run, as cores busy (1.0: one core all along). */
  clientCores: number;
}

const sortedOf = (values: number[]): Float64Array => Float64Array.from(values).sort();

export async function runChurn(endpoint: Endpoint, options: ChurnOptions): Promise<ChurnResult> {
  const total: number[] = [];
  const upgrade: number[] = [];
  const handshake: number[] = [];
  const failureReasons: Record<string, number> = {};
  let next = 0;
  let failures = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const worker = async () => {
    while (next < options.sessions) {
      next++;
      const dialedAt = performance.now();
      try {
        const conn = await dial(endpoint, options.perSessionTimeoutMs);
        const ms = performance.now() - dialedAt;
        const afterOpen = (conn.setupMicros ?? Number.NaN) / 1000;
        total.push(ms);
        upgrade.push(ms - afterOpen);
        handshake.push(afterOpen);
        conn.close();
      } catch (error) {
        failures++;
        const reason = (error instanceof Error ? error.message : String(error)).slice(0, 80);
        failureReasons[reason] = (failureReasons[reason] ?? 0) + 1;
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency, options.sessions) }, worker),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const sortedTotal = sortedOf(total);
  const sortedUpgrade = sortedOf(upgrade);
  return {
    concurrency: options.concurrency,
    established: total.length,
    failures,
    failureReasons,
    seconds,
    sessionsPerSecond: total.length / seconds,
    p50Ms: percentileSorted(sortedTotal, 50),
    p99Ms: percentileSorted(sortedTotal, 99),
    upgradeP50Ms: percentileSorted(sortedUpgrade, 50),
    upgradeP99Ms: percentileSorted(sortedUpgrade, 99),
    handshakeP50Ms: percentileSorted(sortedOf(handshake), 50),
    clientCores: (cpu.user + cpu.system) / 1e6 / seconds,
  };
}
