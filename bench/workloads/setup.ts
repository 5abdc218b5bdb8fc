// Set-up latency, client side: sequential sessions at low load, each timed from the WebSocket
// upgrade (open) to the `connected` status, then closed before the next one starts.
import { dial } from "../client/dial.ts";
import type { Endpoint } from "../client/endpoint.ts";
import { percentileSorted } from "../lib/stats.ts";

export interface SetupOptions {
  sessions: number;
  warmup: number;
  timeoutMs: number;
}

export interface SetupResult {
  sessions: number;
  p50: number;
  p99: number;
}

export async function runSetup(endpoint: Endpoint, options: SetupOptions): Promise<SetupResult> {
  const samples = new Float64Array(options.sessions);
  for (let i = 0; i < options.warmup + options.sessions; i++) {
    const conn = await dial(endpoint, options.timeoutMs);
    const micros = conn.setupMicros;
    if (micros === undefined) throw new Error("setup: this dialect has no connected status");
    if (i >= options.warmup) samples[i - options.warmup] = micros;
    conn.close();
    await conn.closed;
  }
  const sorted = samples.sort();
  return {
    sessions: options.sessions,
    p50: percentileSorted(sorted, 50),
    p99: percentileSorted(sorted, 99),
  };
}
