// Workload 3, client side: open N concurrent sessions (handshake + 1 KiB echo each) with a
// bounded number of handshakes in progress, then hold them idle until told to close.
import type { Conn } from "../client/conn.ts";
import { dial } from "../client/dial.ts";
import type { Endpoint } from "../client/endpoint.ts";
import { patternSlice } from "../lib/pattern.ts";
import { encodeHeader, TargetMode } from "../lib/target-header.ts";

export interface SessionsOptions {
  sessions: number;
  /** Handshakes in progress at once (a SYN flood would only measure the listen backlog). */
  concurrency: number;
  echoBytes: number;
  perSessionTimeoutMs: number;
  /** Stop opening new sessions after this long. */
  phaseTimeoutMs: number;
}

export interface SessionsResult {
  attempted: number;
  established: number;
  failures: number;
  failureReasons: Record<string, number>;
  setupSeconds: number;
  sessionsPerSecond: number;
  /** Median time from starting to dial to the first echoed byte, ms. */
  firstByteP50Ms: number;
}

/** Resolves with the time the first echoed byte arrived (performance.now()). */
function echoOnce(conn: Conn, bytes: number, timeoutMs: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let got = 0;
    let firstAt = 0;
    const timer = setTimeout(() => reject(new Error("echo timeout")), timeoutMs);
    conn.setReceiver((chunk) => {
      if (got === 0) firstAt = performance.now();
      got += chunk.byteLength;
      if (got >= bytes) {
        clearTimeout(timer);
        resolve(firstAt);
      }
    });
    void conn.closed.then((why) => {
      clearTimeout(timer);
      reject(new Error(why));
    });
    const message = new Uint8Array(16 + bytes);
    message.set(encodeHeader(TargetMode.echo, 0));
    message.set(patternSlice(0, bytes), 16);
    conn.write(message);
  });
}

/** Short, bounded-cardinality failure label. */
function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // Ports and timings vary per run; close codes (4 digits) are kept.
  return text.replace(/\d{5,}/g, "N").slice(0, 80);
}

export async function openSessions(
  endpoint: Endpoint,
  options: SessionsOptions,
): Promise<{ conns: Conn[]; result: SessionsResult }> {
  const conns: Conn[] = [];
  const failureReasons: Record<string, number> = {};
  let next = 0;
  let failures = 0;
  const started = performance.now();
  const deadline = Date.now() + options.phaseTimeoutMs;
  let lastSuccess = started;
  const firstByteMs: number[] = [];

  const worker = async () => {
    while (next < options.sessions && Date.now() < deadline) {
      next++;
      try {
        const dialedAt = performance.now();
        const conn = await dial(endpoint, options.perSessionTimeoutMs);
        conns.push(conn);
        const firstAt = await echoOnce(conn, options.echoBytes, options.perSessionTimeoutMs);
        firstByteMs.push(firstAt - dialedAt);
        lastSuccess = performance.now();
      } catch (error) {
        failures++;
        const reason = reasonOf(error);
        failureReasons[reason] = (failureReasons[reason] ?? 0) + 1;
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency, options.sessions) }, worker),
  );
  const established = next - failures;
  const setupSeconds = (lastSuccess - started) / 1000;
  return {
    conns,
    result: {
      attempted: next,
      established,
      failures: failures + (options.sessions - next),
      failureReasons,
      setupSeconds,
      sessionsPerSecond: established > 0 ? established / setupSeconds : 0,
      firstByteP50Ms: median(firstByteMs),
    },
  };
}

/** Closes every session; resolves when all report closed or after `timeoutMs`. */
export async function closeSessions(conns: Conn[], timeoutMs: number): Promise<number> {
  for (const conn of conns) conn.close();
  let closed = 0;
  await Promise.race([
    Promise.all(conns.map((c) => c.closed.then(() => closed++))),
    Bun.sleep(timeoutMs),
  ]);
  return closed;
}

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
}
