import { expect, test } from "bun:test";
import { freePort } from "../helpers/ports.ts";
import { checkExposition, samples } from "../helpers/prometheus.ts";
import { type RunningProxy, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget } from "../helpers/targets.ts";
import { upgradeStatus } from "../helpers/upgrade-answer.ts";
import { connectThrough, type TestClient } from "../helpers/ws-client.ts";

const tcp = (port: number) => ({ protocol: "tcp", target_ip: "127.0.0.1", target_port: port });

/** A proxy with --metrics-listen on a free port (retried if another process takes it). */
async function proxyWithMetricsListener(args: string[] = []) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const metricsPort = await freePort();
    const proxy = await startProxy(["--metrics-listen", `127.0.0.1:${metricsPort}`, ...args]);
    try {
      await proxy.waitForOutput("health and readiness on", 15_000);
      return { proxy, metricsUrl: `http://127.0.0.1:${metricsPort}` };
    } catch (error) {
      await proxy.stop();
      if (!proxy.output().includes("already in use")) throw error;
    }
  }
  throw new Error("no free port for the metrics listener after 3 attempts");
}

/** Scrapes until `ready(samples)` holds (sessions are counted when their close is processed). */
async function scrapeUntil(url: string, ready: (series: Map<string, number>) => boolean) {
  let text = "";
  for (let attempt = 0; attempt < 200; attempt++) {
    text = await (await fetch(`${url}/metrics`)).text();
    if (ready(samples(text))) return text;
    await Bun.sleep(25);
  }
  throw new Error(`metrics never reached the expected state:\n${text}`);
}

async function echoOnce(proxy: RunningProxy, port: number, size: number) {
  const { client, status } = await connectThrough(proxy.url, tcp(port));
  expect(status.status).toBe("connected");
  client.send(new Uint8Array(size));
  await client.readBytes(size);
  client.close(1000);
  await client.closed;
}

test("--metrics-listen: /metrics, /healthz, /readyz apart from the proxy port; histograms and refusal reasons", async () => {
  const echo = startTcpTarget("echo");
  const { proxy, metricsUrl } = await proxyWithMetricsListener();
  try {
    expect(await (await fetch(`${metricsUrl}/readyz`)).json()).toEqual({ status: "ready" });
    expect(await (await fetch(`${metricsUrl}/healthz`)).json()).toEqual({
      status: "ok",
      sessions: 0,
    });
    // Only the separate listener serves metrics; the proxy's port says they are not here.
    expect((await fetch(`http://127.0.0.1:${proxy.port}/metrics`)).status).toBe(404);

    await echoOnce(proxy, echo.port, 1000);
    expect(await upgradeStatus(proxy.port, { "sec-websocket-protocol": "chat" })).toBe(400);
    const text = await scrapeUntil(
      metricsUrl,
      (s) => s.get('socket2web_session_duration_seconds_count{protocol="tcp"}') === 1,
    );
    await checkExposition(text);
    const series = samples(text);
    expect(series.get("socket2web_handshake_duration_seconds_count")).toBe(1);
    expect(
      series.get(
        'socket2web_target_connect_duration_seconds_count{protocol="tcp",outcome="connected"}',
      ),
    ).toBe(1);
    expect(series.get('socket2web_bytes_total{direction="client_to_target",protocol="tcp"}')).toBe(
      1000,
    );
    expect(series.get('socket2web_bytes_total{direction="target_to_client",protocol="tcp"}')).toBe(
      1000,
    );
    expect(series.get('socket2web_refused_total{frontend="socket2web",reason="bad_request"}')).toBe(
      1,
    );
    expect(
      series.get(
        'socket2web_sessions_total{frontend="socket2web",close_code="1000",closed_by="client"}',
      ),
    ).toBe(1);
  } finally {
    await proxy.stop();
    echo.stop();
  }
}, 30_000);

test("--metrics-listen: /readyz answers 503 from SIGTERM until the process exits, while the proxy port is closed", async () => {
  // A target that never reads: the session has bytes to flush, so the drain takes its grace time.
  const stuck = startTcpTarget((socket) => socket.pause());
  const { proxy, metricsUrl } = await proxyWithMetricsListener();
  let client: TestClient | undefined;
  try {
    const opened = await connectThrough(proxy.url, tcp(stuck.port));
    client = opened.client;
    for (let i = 0; i < 64; i++) client.send(new Uint8Array(256 * 1024));
    await scrapeUntil(
      metricsUrl,
      (s) =>
        (s.get('socket2web_bytes_total{direction="client_to_target",protocol="tcp"}') ?? 0) > 0,
    );
    proxy.proc.kill("SIGTERM");
    await proxy.waitForOutput("SIGTERM received");
    const readiness = await fetch(`${metricsUrl}/readyz`);
    expect(readiness.status).toBe(503);
    expect(await readiness.json()).toEqual({ status: "shutting down" });
    expect((await fetch(`${metricsUrl}/healthz`)).status).toBe(200);
    // The proxy's own listener closed at once.
    await expect(fetch(`http://127.0.0.1:${proxy.port}/healthz`)).rejects.toThrow();
    expect(proxy.proc.exitCode).toBeNull();
    expect(await proxy.proc.exited).toBe(0);
    expect((await client.closed).code).toBe(1001);
    await expect(fetch(`${metricsUrl}/readyz`)).rejects.toThrow();
  } finally {
    await proxy.stop();
    stuck.stop();
  }
}, 30_000);

test("--log-format json: one object per line, with the session's fields", async () => {
  const echo = startTcpTarget("echo");
  const proxy = await startProxy(["--log-format", "json", "--allow-origin", "https://ok.example"]);
  await echoOnce(proxy, echo.port, 1500);
  expect(await upgradeStatus(proxy.port, { origin: "https://evil.example" })).toBe(403);
  await proxy.waitForOutput(/"close_code":1000/);
  await proxy.stop();
  echo.stop();
  const lines = (await proxy.completeOutput()).split("\n").filter((line) => line !== "");
  const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  for (const entry of entries) {
    expect(entry.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(["trace", "debug", "info", "warn", "error"]).toContain(entry.level as string);
    expect(typeof entry.msg).toBe("string");
  }
  const listening = entries.find((entry) => entry.listen !== undefined);
  expect(listening).toMatchObject({ level: "info", listen: proxy.url, max_connections: 1000 });
  const session = entries.find((entry) => entry.close_code !== undefined);
  expect(session).toMatchObject({
    level: "info",
    session: expect.any(Number),
    client: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
    protocol: "tcp",
    target: `127.0.0.1:${echo.port}`,
    bytes_from_client: 1500,
    bytes_from_target: 1500,
    duration_ms: expect.any(Number),
    close_code: 1000,
  });
  const refusal = entries.find((entry) => entry.reason === "origin");
  expect(refusal).toMatchObject({ level: "info", client: expect.stringMatching(/^127\.0\.0\.1/) });
}, 30_000);

test("--workers 2: one scrape of the supervisor's listener (and of /metrics on the proxy port) shows both workers", async () => {
  const echo = startTcpTarget("echo");
  const { proxy, metricsUrl } = await proxyWithMetricsListener(["--workers", "2", "--metrics"]);
  try {
    await proxy.waitForOutput(/\[worker 1\] socket2web listening/, 15_000);
    await proxy.waitForOutput(/\[worker 2\] socket2web listening/, 15_000);
    const sessions = 24;
    for (let i = 0; i < sessions; i++) await echoOnce(proxy, echo.port, 100);
    // The kernel spread the connections: both workers served some.
    await proxy.waitForOutput(/\[worker 1\] session \d+ .* close 1000/);
    await proxy.waitForOutput(/\[worker 2\] session \d+ .* close 1000/);
    const text = await scrapeUntil(
      metricsUrl,
      (s) =>
        s.get(
          'socket2web_sessions_total{frontend="socket2web",close_code="1000",closed_by="client"}',
        ) === sessions,
    );
    await checkExposition(text);
    const series = samples(text);
    expect(series.get("socket2web_workers")).toBe(2);
    expect(series.get("socket2web_workers_scraped")).toBe(2);
    expect(series.get('socket2web_bytes_total{direction="client_to_target",protocol="tcp"}')).toBe(
      sessions * 100,
    );
    expect(
      series.get(
        'socket2web_target_connect_duration_seconds_count{protocol="tcp",outcome="connected"}',
      ),
    ).toBe(sessions);
    // /metrics on the proxy's port reaches one worker, which answers with the same total.
    const samePort = samples(await (await fetch(`http://127.0.0.1:${proxy.port}/metrics`)).text());
    expect(
      samePort.get(
        'socket2web_sessions_total{frontend="socket2web",close_code="1000",closed_by="client"}',
      ),
    ).toBe(sessions);
    expect(samePort.get("socket2web_workers_scraped")).toBe(2);

    proxy.proc.kill("SIGTERM");
    await proxy.waitForOutput("SIGTERM received");
    const readiness = await fetch(`${metricsUrl}/readyz`).catch(() => undefined);
    // 503 while the workers drain, or already gone if they had nothing to drain.
    if (readiness) expect(readiness.status).toBe(503);
    expect(await proxy.proc.exited).toBe(0);
  } finally {
    await proxy.stop();
    echo.stop();
  }
}, 60_000);
