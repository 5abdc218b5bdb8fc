import { expect, test } from "bun:test";
import { VERSION } from "../version.ts";
import {
  aggregateSnapshots,
  answerScrapes,
  createWorkerScraper,
  SCRAPE_REQUEST,
} from "./aggregate.ts";
import { createMetrics } from "./metrics.ts";

function parse(text: string): Map<string, number> {
  const result = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    result.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return result;
}

/** A worker's metrics after one finished session of `bytes` each way. */
function worker(bytes: number) {
  const metrics = createMetrics(() => []);
  metrics.sessionFinished({
    bytesFromClient: bytes,
    bytesFromTarget: bytes,
    protocol: "tcp",
    closeCode: 1000,
    error: undefined,
    durationSeconds: 1,
  });
  metrics.refused("capacity");
  return metrics;
}

test("snapshots add up: counters and histograms summed, start time the earliest", async () => {
  const a = await worker(100).snapshot();
  const b = await worker(50).snapshot();
  const series = parse(await aggregateSnapshots([a, b]));
  expect(series.get('socket2web_bytes_total{direction="client_to_target",protocol="tcp"}')).toBe(
    150,
  );
  expect(series.get('socket2web_sessions_total{close_code="1000"}')).toBe(2);
  expect(series.get('socket2web_refused_total{reason="capacity"}')).toBe(2);
  expect(series.get('socket2web_session_duration_seconds_count{protocol="tcp"}')).toBe(2);
  const own = parse(await worker(0).render());
  expect(series.get("process_start_time_seconds")).toBe(own.get("process_start_time_seconds"));
  expect(
    series.get(`socket2web_build_info{version="${VERSION}",bun_version="${Bun.version}"}`),
  ).toBe(1);
});

/** An in-process stand-in for the IPC pair between the supervisor and one worker. */
function channelPair(scraper: ReturnType<typeof createWorkerScraper>, workerId: number) {
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
      queueMicrotask(() => scraper.receive(workerId, structuredClone(message)));
    },
  };
  return { toWorker, workerEnd };
}

test("the supervisor's scrape holds every worker that answers, plus itself", async () => {
  const scraper = createWorkerScraper(2);
  const one = channelPair(scraper, 1);
  const two = channelPair(scraper, 2);
  answerScrapes(worker(10).snapshot, one.workerEnd);
  answerScrapes(worker(20).snapshot, two.workerEnd);
  const workers = new Map([
    [1, one.toWorker],
    [2, two.toWorker],
  ]);
  const series = parse(await scraper.scrape(workers));
  expect(series.get('socket2web_bytes_total{direction="target_to_client",protocol="tcp"}')).toBe(
    30,
  );
  expect(series.get("socket2web_workers")).toBe(2);
  expect(series.get("socket2web_workers_scraped")).toBe(2);
  // The supervisor's own process counts too: three processes' memory.
  expect(series.get("process_resident_memory_bytes")).toBeGreaterThan(0);
  // A second scrape gets fresh answers, not the first one's.
  const again = parse(await scraper.scrape(workers));
  expect(again.get('socket2web_sessions_total{close_code="1000"}')).toBe(2);
});

test("a worker that does not answer in time is left out, and its late answer is ignored", async () => {
  const scraper = createWorkerScraper(2, 30);
  const one = channelPair(scraper, 1);
  answerScrapes(worker(10).snapshot, one.workerEnd);
  const requests: unknown[] = [];
  const silent = { send: (message: unknown) => requests.push(message) };
  const series = parse(
    await scraper.scrape(
      new Map([
        [1, one.toWorker],
        [2, silent],
      ]),
    ),
  );
  expect(series.get("socket2web_workers_scraped")).toBe(1);
  expect(series.get('socket2web_bytes_total{direction="target_to_client",protocol="tcp"}')).toBe(
    10,
  );
  expect(requests).toEqual([{ type: SCRAPE_REQUEST, id: 1 }]);
  const late = await worker(99).snapshot();
  expect(scraper.receive(2, { type: "socket2web.metrics.reply", id: 1, snapshot: late })).toBe(
    true,
  );
  const dead = {
    send: () => {
      throw new Error("worker exited");
    },
  };
  const next = parse(await scraper.scrape(new Map([[2, dead]])));
  expect(next.get("socket2web_workers_scraped")).toBe(0);
});
