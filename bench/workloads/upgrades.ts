// Bare WebSocket upgrades, client side: dial → open, each closed at once; one at a time, then a
// fixed number in progress (for servers/upgrade-await.ts, which speaks no protocol after it).
import { percentileSorted } from "../lib/stats.ts";

export interface UpgradesOptions {
  url: string;
  warmup: number;
  sequential: number;
  concurrent: number;
  concurrency: number;
}

export interface UpgradesResult {
  /** Dial → open, one at a time (each waits for the previous close), µs. */
  sequentialP50Us: number;
  sequentialP99Us: number;
  perSecond: number;
  concurrentP50Ms: number;
  concurrentP99Ms: number;
}

/** Dial → open, ms; the socket is closed at once (and its close awaited when asked). */
function upgradeOnce(url: string, awaitClose: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const at = performance.now();
    const ws = new WebSocket(url);
    let took = 0;
    ws.onopen = () => {
      took = performance.now() - at;
      ws.close();
      if (!awaitClose) resolve(took);
    };
    ws.onclose = () => (took > 0 ? resolve(took) : reject(new Error("closed before open")));
    ws.onerror = () => reject(new Error("websocket error"));
  });
}

export async function runUpgrades(options: UpgradesOptions): Promise<UpgradesResult> {
  for (let i = 0; i < options.warmup; i++) await upgradeOnce(options.url, true);
  const sequential = new Float64Array(options.sequential);
  for (let i = 0; i < options.sequential; i++) sequential[i] = await upgradeOnce(options.url, true);
  const concurrent: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next++ < options.concurrent) concurrent.push(await upgradeOnce(options.url, false));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  sequential.sort();
  const sorted = Float64Array.from(concurrent).sort();
  return {
    sequentialP50Us: percentileSorted(sequential, 50) * 1000,
    sequentialP99Us: percentileSorted(sequential, 99) * 1000,
    perSecond: concurrent.length / seconds,
    concurrentP50Ms: percentileSorted(sorted, 50),
    concurrentP99Ms: percentileSorted(sorted, 99),
  };
}
