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

export interface ScrapeRequest {
  readonly type: typeof SCRAPE_REQUEST;
  readonly id: number;
}

export interface ScrapeReply {
  readonly type: typeof SCRAPE_REPLY;
  readonly id: number;
  readonly snapshot: MetricsSnapshot;
}

/** The IPC end a worker has (`process` in a child spawned with `ipc`). */
export interface ParentChannel {
  on(event: "message", listener: (message: unknown) => void): unknown;
  send?(message: unknown): unknown;
}

/** A worker as the supervisor sees it: something to send a request to. */
export interface WorkerChannel {
  send(message: unknown): unknown;
}

/** Worker side: answers the supervisor's scrape requests with this process's snapshot. */
export function answerScrapes(
  snapshot: () => Promise<MetricsSnapshot>,
  channel: ParentChannel = process as unknown as ParentChannel,
): void {
  channel.on("message", (message) => {
    if (!isRequest(message)) return;
    void snapshot().then((metrics) => {
      const reply: ScrapeReply = { type: SCRAPE_REPLY, id: message.id, snapshot: metrics };
      channel.send?.(reply);
    });
  });
}

export interface WorkerScraper {
  /** Hand every IPC message from worker `workerId` here; true when it was a scrape reply. */
  receive(workerId: number, message: unknown): boolean;
  /** One exposition for the supervisor and every worker that answered within the timeout. */
  scrape(workers: ReadonlyMap<number, WorkerChannel>): Promise<string>;
  readonly contentType: string;
}

/** How long a scrape waits for a worker; one that is slower (or restarting) is left out. */
export const WORKER_SCRAPE_TIMEOUT_MS = 2000;

/** Supervisor side: its own process metrics plus its workers', summed. */
export function createWorkerScraper(
  configuredWorkers: number,
  timeoutMs = WORKER_SCRAPE_TIMEOUT_MS,
): WorkerScraper {
  const own = new Registry();
  registerProcessMetrics(own);
  new Gauge({
    name: "socket2web_workers",
    help: "Worker processes the supervisor runs (--workers)",
    registers: [own],
    aggregator: "max",
  }).set(configuredWorkers);
  const answered = new Gauge({
    name: "socket2web_workers_scraped",
    help: "Workers whose metrics this scrape includes (fewer while one restarts)",
    registers: [own],
    aggregator: "max",
  });
  let nextId = 1;
  const pending = new Map<string, (snapshot: MetricsSnapshot) => void>();

  return {
    contentType: own.contentType,
    receive(workerId, message) {
      if (!isReply(message)) return false;
      const key = `${workerId}/${message.id}`;
      pending.get(key)?.(message.snapshot);
      pending.delete(key);
      return true;
    },
    async scrape(workers) {
      const id = nextId++;
      const replies = [...workers].map(
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
              channel.send({ type: SCRAPE_REQUEST, id } satisfies ScrapeRequest);
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
    },
  };
}

/** Adds up snapshots metric by metric, each by its `aggregator` (sum when unset). */
export function aggregateSnapshots(snapshots: readonly MetricsSnapshot[]): Promise<string> {
  return AggregatorRegistry.aggregate(snapshots as MetricsSnapshot[]).metrics();
}

function isRequest(message: unknown): message is ScrapeRequest {
  return (
    typeof message === "object" &&
    message !== null &&
    (message as { type?: unknown }).type === SCRAPE_REQUEST &&
    typeof (message as { id?: unknown }).id === "number"
  );
}

function isReply(message: unknown): message is ScrapeReply {
  return (
    typeof message === "object" &&
    message !== null &&
    (message as { type?: unknown }).type === SCRAPE_REPLY &&
    typeof (message as { id?: unknown }).id === "number" &&
    Array.isArray((message as { snapshot?: unknown }).snapshot)
  );
}
