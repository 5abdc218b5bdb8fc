import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { type RunningProxy, runProxyCommand, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget } from "../helpers/targets.ts";
import { connectThrough } from "../helpers/ws-client.ts";

const tcp = (port: number) => ({ protocol: "tcp", target_ip: "127.0.0.1", target_port: port });

/** Workers start in any order: wait for each one's line, not just the second's. */
async function bothWorkersListening(proxy: RunningProxy): Promise<void> {
  await proxy.waitForOutput(/\[worker 1\] socket2web listening/, 15_000);
  await proxy.waitForOutput(/\[worker 2\] socket2web listening/, 15_000);
}

function childrenOf(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
  return text ? text.split(/\s+/).map(Number) : [];
}

test("--workers 2: both processes serve the port, and SIGTERM closes sessions with 1001 and exits 0", async () => {
  const echo = startTcpTarget("echo");
  const proxy = await startProxy(["--workers", "2"]);
  await bothWorkersListening(proxy);
  expect(proxy.output()).toContain("max 500 connections");
  // The supervisor restarted itself with its runtime settings; its workers inherit them.
  const workers = childrenOf(proxy.proc.pid);
  expect(workers).toHaveLength(2);
  for (const worker of workers) {
    const environ = readFileSync(`/proc/${worker}/environ`, "utf8").split("\0");
    expect(environ).toContain(`MIMALLOC_PURGE_DELAY=${process.env.MIMALLOC_PURGE_DELAY ?? "1000"}`);
    expect(environ).toContain(`BUN_JSC_useFTLJIT=${process.env.BUN_JSC_useFTLJIT ?? "false"}`);
  }
  const sessions = [];
  for (let i = 0; i < 24; i++) {
    const { client, status } = await connectThrough(proxy.url, tcp(echo.port));
    expect(status.status).toBe("connected");
    client.send(`hello ${i}`);
    expect(new TextDecoder().decode(await client.readBytes(`hello ${i}`.length))).toBe(
      `hello ${i}`,
    );
    sessions.push(client);
  }
  const closing = sessions.slice(0, 20);
  for (const client of closing) client.close(1000);
  await Promise.all(closing.map((client) => client.closed));
  await proxy.waitForOutput(/\[worker 1\] session \d+ .* close 1000/);
  await proxy.waitForOutput(/\[worker 2\] session \d+ .* close 1000/);

  proxy.proc.kill("SIGTERM");
  const closes = await Promise.all(sessions.slice(20).map((client) => client.closed));
  for (const close of closes) expect(close.code).toBe(1001);
  expect(await proxy.proc.exited).toBe(0);
  echo.stop();
}, 40_000);

test("a worker that dies is restarted and the port keeps serving", async () => {
  const echo = startTcpTarget("echo");
  const proxy = await startProxy(["--workers", "2"]);
  await bothWorkersListening(proxy);
  const [first] = childrenOf(proxy.proc.pid);
  expect(first).toBeGreaterThan(0);
  process.kill(first as number, "SIGKILL");
  await proxy.waitForOutput(/worker \d exited with .*: restarting it/, 10_000);
  const listening = () => proxy.output().match(/socket2web listening/g)?.length ?? 0;
  // A restarted worker starts after a 1 s pause; a loaded machine makes its start-up slow too.
  const deadline = Date.now() + 15_000;
  while (listening() < 3 && Date.now() < deadline) await Bun.sleep(20);
  expect(listening()).toBe(3);
  expect(childrenOf(proxy.proc.pid)).toHaveLength(2);
  for (let i = 0; i < 8; i++) {
    const { client, status } = await connectThrough(proxy.url, tcp(echo.port));
    expect(status.status).toBe("connected");
    client.close();
  }
  expect(await proxy.stop()).toBe(0);
  echo.stop();
}, 40_000);

test("--workers: a port in use is reported in one line", async () => {
  const holder = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const inUse = await runProxyCommand([
    "--ip",
    "127.0.0.1",
    "--port",
    String(holder.port),
    "--workers",
    "2",
  ]);
  holder.stop(true);
  expect(inUse.code).not.toBe(0);
  expect(inUse.stderr.trim()).toMatch(/the port is already in use/);
});
