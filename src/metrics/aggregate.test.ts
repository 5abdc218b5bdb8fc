import { expect, test } from "bun:test";
import { samples } from "../../tests/helpers/prometheus.ts";
import { VERSION } from "../version.ts";
import {
  aggregateSnapshots,
  createWorkerScraper,
  linkWorkerMetrics,
  SCRAPE_REQUEST,
} from "./aggregate.ts";
import { createMetrics } from "./metrics.ts";

/** A worker's metrics after one finished session of `bytes` each way. */
function worker(bytes: number) {
  const metrics = createMetrics(() => []);
  metrics.sessionFinished({
    frontEnd: "socket2web",
    bytesFromClient: bytes,
    bytesFromTarget: bytes,
    protocol: "tcp",
    closeCode: 1000,
    closedBy: "target",
    error: undefined,
    durationSeconds: 1,
  });
  metrics.refused("capacity");
  return metrics;
}

test("snapshots add up: counters and histograms summed, start time the earliest", async () => {
  const a = await worker(100).snapshot();
  const b = await worker(50).snapshot();
  const series = samples(await aggregateSnapshots([a, b]));
  expect(series.get('socket2web_bytes_total{direction="client_to_target",protocol="tcp"}')).toBe(
    150,
  );
  expect(
    series.get(
      'socket2web_sessions_total{frontend="socket2web",close_code="1000",closed_by="target"}',
    ),
  ).toBe(2);
  expect(series.get('socket2web_refused_total{frontend="none",reason="capacity"}')).toBe(2);
  expect(series.get('socket2web_session_duration_seconds_count{protocol="tcp"}')).toBe(2);
  const own = samples(await worker(0).render());
  expect(series.get("process_start_time_seconds")).toBe(own.get("process_start_time_seconds"));
  expect(
    series.get(`socket2web_build_info{version="${VERSION}",bun_version="${Bun.version}"}`),
  ).toBe(1);
});

/** An in-process stand-in for the IPC pair between the supervisor and one worker. */
function channelPair(receive: (message: unknown) => void) {
  const listeners: ((message: unknown) => void)[] = [];
  const toWorker = {
    send(message: unknown) {
      queueMicrotask(() => {
        for (const listener of listeners) listener(structuredClone(message));
      });
    },
  };
  const workerEnd = {
    on(_event: "message", listener: (message: unknown) => void) {
      listeners.push(listener);
    },
    send(message: unknown) {
      queueMicrotask(() => receive(structuredClone(message)));
    },
  };
  return { toWorker, workerEnd };
}

function supervisorWith(count: number, timeoutMs?: number) {
  const workers = new Map<number, { send(message: unknown): unknown }>();
  const scraper = createWorkerScraper({
    configuredWorkers: count,
    workers: () => workers,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
  const add = (id: number, bytes: number) => {
    const pair = channelPair((message) => scraper.receive(id, message));
    workers.set(id, pair.toWorker);
    return linkWorkerMetrics(worker(bytes).snapshot, pair.workerEnd);
  };
  return { scraper, workers, add };
}

test("the supervisor's scrape holds every worker that answers, plus itself", async () => {
  const { scraper, add } = supervisorWith(2);
  add(1, 10);
  add(2, 20);
  const series = samples(await scraper.scrape());
  expect(series.get('socket2web_bytes_total{direction="target_to_client",protocol="tcp"}')).toBe(
    30,
  );
  expect(series.get("socket2web_workers")).toBe(2);
  expect(series.get("socket2web_workers_scraped")).toBe(2);
  // The supervisor's own process counts too: three processes' memory.
  expect(series.get("process_resident_memory_bytes")).toBeGreaterThan(0);
  // A second scrape gets fresh answers, not the first one's.
  const again = samples(await scraper.scrape());
  expect(
    again.get(
      'socket2web_sessions_total{frontend="socket2web",close_code="1000",closed_by="target"}',
    ),
  ).toBe(2);
});

test("a worker asked for /metrics gets the whole server's total from the supervisor", async () => {
  const { add } = supervisorWith(2);
  const first = add(1, 10);
  add(2, 20);
  const series = samples(await first.total());
  expect(series.get('socket2web_bytes_total{direction="client_to_target",protocol="tcp"}')).toBe(
    30,
  );
  expect(series.get("socket2web_workers_scraped")).toBe(2);
});

test("a worker that does not answer in time is left out, and its late answer is ignored", async () => {
  const { scraper, workers, add } = supervisorWith(2, 30);
  add(1, 10);
  const requests: unknown[] = [];
  workers.set(2, { send: (message: unknown) => requests.push(message) });
  const series = samples(await scraper.scrape());
  expect(series.get("socket2web_workers_scraped")).toBe(1);
  expect(series.get('socket2web_bytes_total{direction="target_to_client",protocol="tcp"}')).toBe(
    10,
  );
  expect(requests).toEqual([{ type: SCRAPE_REQUEST, id: 1 }]);
  const late = await worker(99).snapshot();
  expect(scraper.receive(2, { type: "socket2web.metrics.reply", id: 1, snapshot: late })).toBe(
    true,
  );
  expect(scraper.receive(2, { type: "something else", id: 1 })).toBe(false);
  workers.delete(1);
  workers.set(2, {
    send: () => {
      throw new Error("worker exited");
    },
  });
  const next = samples(await scraper.scrape());
  expect(next.get("socket2web_workers_scraped")).toBe(0);
});
