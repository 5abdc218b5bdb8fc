import { AggregatorRegistry, Gauge, Registry } from "prom-client";
import type { MetricsSnapshot } from "./metrics.ts";
import { registerProcessMetrics } from "./process.ts";

/**
 * With --workers N the supervisor answers /metrics for the whole server: it asks every worker for
 * its snapshot over the IPC channel it spawned them with, adds them to its own, and renders one
 * exposition. Counters, histograms and most gauges are summed (bytes, sessions, memory, CPU, open
 * descriptors of all processes); each metric's `aggregator` says otherwise (start time: earliest).
 */

export const SCRAPE_REQUEST = "socket2web.metrics.request";
export const SCRAPE_REPLY = "socket2web.metrics.reply";
/** A worker asked for /metrics on the proxy's port: it wants the whole server's exposition. */
export const TOTAL_REQUEST = "socket2web.metrics.total-request";
export const TOTAL_REPLY = "socket2web.metrics.total-reply";

export type SupervisorMessage =
  | { readonly type: typeof SCRAPE_REQUEST; readonly id: number }
  | { readonly type: typeof TOTAL_REPLY; readonly id: number; readonly text: string };

export type WorkerMessage =
  | { readonly type: typeof SCRAPE_REPLY; readonly id: number; readonly snapshot: MetricsSnapshot }
  | { readonly type: typeof TOTAL_REQUEST; readonly id: number };

/** The IPC end a worker has (`process` in a child spawned with `ipc`). */
export interface ParentChannel {
  on(event: "message", listener: (message: unknown) => void): unknown;
  send?(message: unknown): unknown;
}

/** A worker as the supervisor sees it: something to send a message to. */
export interface WorkerChannel {
  send(message: unknown): unknown;
}

/** How long a scrape waits for a worker; one that is slower (or restarting) is left out. */
export const WORKER_SCRAPE_TIMEOUT_MS = 2000;

export interface WorkerMetricsLink {
  /** The whole server's exposition, from the supervisor (for /metrics on the proxy's port). */
  total(): Promise<string>;
}

/**
 * Worker side: answers the supervisor's scrape requests with this process's snapshot, and asks
 * the supervisor for the total when /metrics is requested on the proxy's port.
 */
export function linkWorkerMetrics(
  snapshot: () => Promise<MetricsSnapshot>,
  channel: ParentChannel = process as unknown as ParentChannel,
  timeoutMs = WORKER_SCRAPE_TIMEOUT_MS * 2,
): WorkerMetricsLink {
  let nextId = 1;
  const waiting = new Map<number, (text: string) => void>();
  channel.on("message", (message) => {
    const known = message as SupervisorMessage;
    if (!isMessage(message)) return;
    if (known.type === SCRAPE_REQUEST) {
      void snapshot().then((metrics) =>
        channel.send?.({
          type: SCRAPE_REPLY,
          id: known.id,
          snapshot: metrics,
        } satisfies WorkerMessage),
      );
    } else if (known.type === TOTAL_REPLY && typeof known.text === "string") {
      waiting.get(known.id)?.(known.text);
      waiting.delete(known.id);
    }
  });
  return {
    total() {
      const id = nextId++;
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`the supervisor did not answer within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(id, (text) => {
          clearTimeout(timer);
          resolve(text);
        });
        channel.send?.({ type: TOTAL_REQUEST, id } satisfies WorkerMessage);
      });
    },
  };
}

export interface WorkerScraper {
  /** Hand every IPC message from worker `workerId` here; true when it was a metrics message. */
  receive(workerId: number, message: unknown): boolean;
  /** One exposition for the supervisor and every worker that answered within the timeout. */
  scrape(): Promise<string>;
  readonly contentType: string;
}

/** Supervisor side: its own process metrics plus its workers', summed. */
export function createWorkerScraper(options: {
  readonly configuredWorkers: number;
  /** The workers running now. */
  readonly workers: () => ReadonlyMap<number, WorkerChannel>;
  readonly timeoutMs?: number;
}): WorkerScraper {
  const timeoutMs = options.timeoutMs ?? WORKER_SCRAPE_TIMEOUT_MS;
  const own = new Registry();
  registerProcessMetrics(own);
  new Gauge({
    name: "socket2web_workers",
    help: "Worker processes the supervisor runs (--workers)",
    registers: [own],
    aggregator: "max",
  }).set(options.configuredWorkers);
  const answered = new Gauge({
    name: "socket2web_workers_scraped",
    help: "Workers whose metrics this scrape includes (fewer while one restarts)",
    registers: [own],
    aggregator: "max",
  });
  let nextId = 1;
  const pending = new Map<string, (snapshot: MetricsSnapshot) => void>();

  const scrape = async () => {
    const id = nextId++;
    const replies = [...options.workers()].map(
      ([workerId, channel]) =>
        new Promise<MetricsSnapshot | undefined>((resolve) => {
          const key = `${workerId}/${id}`;
          const timer = setTimeout(() => {
            pending.delete(key);
            resolve(undefined);
          }, timeoutMs);
          pending.set(key, (snapshot) => {
            clearTimeout(timer);
            resolve(snapshot);
          });
          try {
            channel.send({ type: SCRAPE_REQUEST, id } satisfies SupervisorMessage);
          } catch {
            // A worker that just exited: left out of this scrape.
            clearTimeout(timer);
            pending.delete(key);
            resolve(undefined);
          }
        }),
    );
    const snapshots = (await Promise.all(replies)).filter(
      (snapshot): snapshot is MetricsSnapshot => snapshot !== undefined,
    );
    answered.set(snapshots.length);
    return aggregateSnapshots([await own.getMetricsAsJSON(), ...snapshots]);
  };

  return {
    contentType: own.contentType,
    scrape,
    receive(workerId, message) {
      if (!isMessage(message)) return false;
      const known = message as WorkerMessage;
      if (known.type === SCRAPE_REPLY) {
        if (!Array.isArray(known.snapshot)) return true;
        const key = `${workerId}/${known.id}`;
        pending.get(key)?.(known.snapshot);
        pending.delete(key);
        return true;
      }
      if (known.type === TOTAL_REQUEST) {
        void scrape().then((text) => {
          try {
            options.workers().get(workerId)?.send({ type: TOTAL_REPLY, id: known.id, text });
          } catch {
            // The worker is gone; nobody is waiting.
          }
        });
        return true;
      }
      return false;
    },
  };
}

/** Adds up snapshots metric by metric, each by its `aggregator` (sum when unset). */
export function aggregateSnapshots(snapshots: readonly MetricsSnapshot[]): Promise<string> {
  return AggregatorRegistry.aggregate(snapshots as MetricsSnapshot[]).metrics();
}

const MESSAGE_TYPES: ReadonlySet<unknown> = new Set([
  SCRAPE_REQUEST,
  SCRAPE_REPLY,
  TOTAL_REQUEST,
  TOTAL_REPLY,
]);

function isMessage(message: unknown): boolean {
  return (
    typeof message === "object" &&
    message !== null &&
    MESSAGE_TYPES.has((message as { type?: unknown }).type) &&
    typeof (message as { id?: unknown }).id === "number"
  );
}
