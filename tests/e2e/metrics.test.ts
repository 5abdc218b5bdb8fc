import { expect, test } from "bun:test";
import { closedPort } from "../helpers/ports.ts";
import { startProxy } from "../helpers/proxy.ts";
import { startTcpTarget } from "../helpers/targets.ts";
import { connectThrough, openClient } from "../helpers/ws-client.ts";

const scrape = async (port: number) => {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    body: await response.text(),
  };
};

/** Bytes one way, summed over the protocols. */
const bytes = (body: string, direction: string): number =>
  body
    .split("\n")
    .filter((l) => l.startsWith(`socket2web_bytes_total{direction="${direction}"`))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);

const value = (body: string, series: string): number => {
  const line = body.split("\n").find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no series ${series} in:\n${body}`);
  return Number(line.slice(series.length + 1));
};

test("without --metrics, /metrics is not served: 404 saying how to turn it on", async () => {
  const proxy = await startProxy();
  const answer = await scrape(proxy.port);
  expect(answer.status).toBe(404);
  expect(answer.body).toContain("--metrics");
  await proxy.stop();
});

test("with --metrics: live and finished sessions, bytes each way, errors and refusals", async () => {
  const echo = startTcpTarget("echo");
  const proxy = await startProxy(["--metrics", "--max-connections", "2"]);

  const { client } = await connectThrough(proxy.url, {
    protocol: "tcp",
    target_ip: "127.0.0.1",
    target_port: echo.port,
  });
  client.send(new Uint8Array(1000));
  await client.readBytes(1000);
  let metrics = await scrape(proxy.port);
  expect(metrics.status).toBe(200);
  expect(metrics.type).toContain("text/plain");
  expect(value(metrics.body, "socket2web_sessions_active")).toBe(1);
  // Live sessions count before they finish.
  expect(bytes(metrics.body, "client_to_target")).toBe(1000);
  expect(bytes(metrics.body, "target_to_client")).toBe(1000);

  const refused = await connectThrough(proxy.url, {
    protocol: "tcp",
    target_ip: "127.0.0.1",
    target_port: await closedPort(),
  });
  expect(refused.status.error).toBe("connect_failed");
  await refused.client.closed;
  const held = await openClient(proxy.url);
  const overCapacity = await openClient(proxy.url);
  expect((await overCapacity.closed).code).toBe(1013);
  client.close(1000);
  await client.closed;
  held.close();
  await held.closed;
  // The client sees its close before the proxy has finished the session: wait for the proxy to
  // report every session over (bounded), then read the final counters from that same scrape.
  const deadline = Date.now() + 5000;
  for (;;) {
    metrics = await scrape(proxy.port);
    if (value(metrics.body, "socket2web_sessions_active") === 0 || Date.now() > deadline) break;
    await Bun.sleep(10);
  }
  expect(value(metrics.body, "socket2web_sessions_active")).toBe(0);
  expect(bytes(metrics.body, "client_to_target")).toBe(1000);
  expect(value(metrics.body, 'socket2web_session_errors_total{error="connect_failed"}')).toBe(1);
  expect(
    value(
      metrics.body,
      'socket2web_sessions_total{frontend="socket2web",close_code="4502",closed_by="server"}',
    ),
  ).toBe(1);
  expect(
    value(metrics.body, 'socket2web_refused_total{frontend="socket2web",reason="capacity"}'),
  ).toBe(1);
  expect(value(metrics.body, "process_resident_memory_bytes")).toBeGreaterThan(0);
  await proxy.stop();
  echo.stop();
});
