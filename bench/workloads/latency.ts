// Workload 2, client side: sequential small round trips through the echo target.
// Callback driven (no promise per round trip) so the client adds as little as it can.
import type { Conn } from "../client/conn.ts";
import { patternSlice } from "../lib/pattern.ts";
import { percentileSorted } from "../lib/stats.ts";
import { encodeHeader, TargetMode } from "../lib/target-header.ts";

export interface LatencyOptions {
  roundTrips: number;
  warmup: number;
  messageBytes: number;
  timeoutMs: number;
}

export interface LatencyResult {
  roundTrips: number;
  p50: number;
  p99: number;
  p999: number;
  mean: number;
  max: number;
}

export async function runLatency(conn: Conn, options: LatencyOptions): Promise<LatencyResult> {
  const { roundTrips, warmup, messageBytes } = options;
  const total = warmup + roundTrips;
  const samples = new Float64Array(roundTrips);
  let index = 0;
  let got = 0;
  let sentAt = 0;
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  const timer = setTimeout(
    () =>
      reject(new Error(`latency: ${index} of ${total} round trips after ${options.timeoutMs} ms`)),
    options.timeoutMs,
  );
  void conn.closed.then((why) => reject(new Error(`latency: connection ended: ${why}`)));

  const sendNext = () => {
    sentAt = Bun.nanoseconds();
    conn.write(patternSlice(index * messageBytes, messageBytes));
  };
  conn.setReceiver((bytes) => {
    got += bytes.byteLength;
    if (got < messageBytes) return;
    const elapsedUs = (Bun.nanoseconds() - sentAt) / 1000;
    if (index >= warmup) samples[index - warmup] = elapsedUs;
    got -= messageBytes;
    index++;
    if (index >= total) resolve();
    else sendNext();
  });
  conn.write(encodeHeader(TargetMode.echo, 0));
  sendNext();
  try {
    await promise;
  } finally {
    clearTimeout(timer);
  }
  const sorted = samples.sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    roundTrips,
    p50: percentileSorted(sorted, 50),
    p99: percentileSorted(sorted, 99),
    p999: percentileSorted(sorted, 99.9),
    mean: sum / roundTrips,
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}
