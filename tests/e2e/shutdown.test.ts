import { describe, expect, test } from "bun:test";
import { startBlackhole } from "../helpers/blackhole.ts";
import { startProxy } from "../helpers/proxy.ts";
import { startTcpTarget } from "../helpers/targets.ts";
import { waitForConnectAttempt } from "../helpers/tcp-table.ts";
import { connectThrough, openClient } from "../helpers/ws-client.ts";

const tcp = (port: number) => ({ protocol: "tcp", target_ip: "127.0.0.1", target_port: port });

describe.each([["SIGTERM"], ["SIGINT"]] as const)("%s", (signal) => {
  test("closes sessions in every state with 1001, stops listening, exits 0", async () => {
    const echo = startTcpTarget("echo");
    const blackhole = await startBlackhole();
    const proxy = await startProxy(["--connect-timeout", "5"]);

    const proxying = await connectThrough(proxy.url, tcp(echo.port));
    const greeted = await openClient(proxy.url);
    await greeted.nextJson();
    const connecting = await openClient(proxy.url);
    await connecting.nextJson();
    connecting.send(JSON.stringify(tcp(blackhole.port)));
    await waitForConnectAttempt(proxy.proc.pid, blackhole.port);

    const started = performance.now();
    proxy.proc.kill(signal);
    const closes = await Promise.all([proxying.client.closed, greeted.closed, connecting.closed]);
    for (const close of closes) expect(close.code).toBe(1001);
    expect(await proxy.proc.exited).toBe(0);
    expect(performance.now() - started).toBeLessThan(10_000);
    await expect(openClient(proxy.url)).rejects.toThrow();
    echo.stop();
    await blackhole.stop();
  }, 15_000);
});

test("every byte the proxy read from the target reaches the client before the 1001 close", async () => {
  // Trace logs each chunk read from the target: their sum is what the proxy owes the client.
  const proxy = await startProxy(["--log-level", "trace"]);
  const data = new Uint8Array(4 * 1024 * 1024).fill(42);
  const source = startTcpTarget((socket) => {
    socket.write(data);
  });
  const { client } = await connectThrough(proxy.url, tcp(source.port));
  const first = (await client.next()) as Uint8Array;
  proxy.proc.kill("SIGTERM");
  expect((await client.closed).code).toBe(1001);
  expect(await proxy.proc.exited).toBe(0);
  let received = first.byteLength;
  for (;;) {
    const message = await client.next(0).catch(() => undefined);
    if (message === undefined) break;
    received += (message as Uint8Array).byteLength;
  }
  // Only once the process has exited and both pipes have ended is every trace line in.
  const output = await proxy.completeOutput();
  const read = [...output.matchAll(/target -> client (\d+) B/g)].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
  expect(read).toBeGreaterThan(0);
  expect(received).toBe(read);
  source.stop();
}, 15_000);
