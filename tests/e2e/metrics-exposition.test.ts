import { afterAll, beforeAll, expect, test } from "bun:test";
import { checkExposition, samples } from "../helpers/prometheus.ts";
import { type RunningProxy, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { connectThrough, openClient } from "../helpers/ws-client.ts";

let proxy: RunningProxy;
let echo: TcpTarget;
beforeAll(async () => {
  echo = startTcpTarget("echo");
  proxy = await startProxy(["--metrics"]);
});
afterAll(async () => {
  await proxy.stop();
  echo.stop();
});

const scrape = async () => (await fetch(`http://127.0.0.1:${proxy.port}/metrics`)).text();

test("the first scrape after start passes promtool and has no NaN", async () => {
  const text = await scrape();
  await checkExposition(text);
  const series = samples(text);
  for (const name of [
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_open_fds",
    "process_max_fds",
    "process_start_time_seconds",
  ]) {
    expect(series.get(name)).toBeGreaterThan(0);
  }
  expect(text).not.toContain("socket2web_process_");
  expect(text).not.toContain("nodejs_");
});

test("200 distinct client close codes do not make 200 series", async () => {
  const sessionSeries = (text: string) =>
    [...samples(text).keys()].filter((key) => key.startsWith("socket2web_sessions_total{"));
  const before = sessionSeries(await scrape());
  const codes = Array.from({ length: 200 }, (_, i) => 3000 + i);
  for (let batch = 0; batch < codes.length; batch += 25) {
    await Promise.all(
      codes.slice(batch, batch + 25).map(async (code) => {
        const client = await openClient(proxy.url);
        await client.next(); // the greeting: the session has started
        client.close(code);
        await client.closed;
      }),
    );
  }
  let text = "";
  for (let attempt = 0; attempt < 100; attempt++) {
    text = await scrape();
    if (
      samples(text).get(
        'socket2web_sessions_total{frontend="socket2web",close_code="other",closed_by="client"}',
      ) === 200
    )
      break;
    await Bun.sleep(20);
  }
  expect(
    samples(text).get(
      'socket2web_sessions_total{frontend="socket2web",close_code="other",closed_by="client"}',
    ),
  ).toBe(200);
  const added = sessionSeries(text).filter((key) => !before.includes(key));
  expect(added).toEqual([
    'socket2web_sessions_total{frontend="socket2web",close_code="other",closed_by="client"}',
  ]);
  await checkExposition(text);
}, 30_000);

test("after real sessions the exposition still passes promtool", async () => {
  const { client } = await connectThrough(proxy.url, {
    protocol: "tcp",
    target_ip: "127.0.0.1",
    target_port: echo.port,
  });
  client.send(new Uint8Array(4096));
  await client.readBytes(4096);
  client.close(1000);
  await client.closed;
  await checkExposition(await scrape());
});
