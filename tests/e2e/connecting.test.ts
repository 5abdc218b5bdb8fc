import { expect, test } from "bun:test";
import { startBlackhole } from "../helpers/blackhole.ts";
import { randomBytes, sha256 } from "../helpers/bytes.ts";
import { KERNEL_IN_FLIGHT } from "../helpers/kernel-buffers.ts";
import { startProxy } from "../helpers/proxy.ts";
import { waitForConnectAttempt } from "../helpers/tcp-table.ts";
import { openClient } from "../helpers/ws-client.ts";

test("a client that closes while the target is still opening: the target still gets its bytes, then end", async () => {
  const blackhole = await startBlackhole();
  const proxy = await startProxy(["--connect-timeout", "8"]);
  const client = await openClient(proxy.url);
  await client.nextJson();
  client.send(
    JSON.stringify({ protocol: "tcp", target_ip: "127.0.0.1", target_port: blackhole.port }),
  );
  client.send("sent before the target accepted");
  await waitForConnectAttempt(proxy.proc.pid, blackhole.port);
  client.close(1000);
  expect((await client.closed).code).toBe(1000);

  // Now the listener accepts; the proxy's connect goes through on its next SYN and delivers.
  blackhole.acceptAll();
  const expected = sha256(new TextEncoder().encode("sent before the target accepted"));
  const deadline = Date.now() + 8000;
  while (!blackhole.finished().includes(expected) && Date.now() < deadline) await Bun.sleep(20);
  expect(blackhole.finished()).toContain(expected);
  await proxy.stop();
  await blackhole.stop();
}, 15_000);

test("data pipelined while the target opens: the client is held back past the bound, then all of it arrives in order", async () => {
  const blackhole = await startBlackhole();
  const proxy = await startProxy(["--connect-timeout", "40"]);
  // One connection's kernel buffers (client send, proxy receive) hold half of KERNEL_IN_FLIGHT;
  // 16 MiB more can only wait in the client, unless the proxy reads past its bound.
  const oneConnection = KERNEL_IN_FLIGHT / 2;
  const total = oneConnection + 16 * 1024 * 1024;
  const data = randomBytes(total);
  const ws = new WebSocket(proxy.url);
  const statuses: string[] = [];
  const greeted = new Promise<void>((resolve) => {
    ws.onmessage = (event) => {
      if (typeof event.data !== "string") return;
      if (JSON.parse(event.data)["supported protocols"]) resolve();
      else statuses.push(JSON.parse(event.data).status);
    };
  });
  await greeted;
  ws.send(JSON.stringify({ protocol: "tcp", target_ip: "127.0.0.1", target_port: blackhole.port }));
  for (let offset = 0; offset < total; offset += 65536)
    ws.send(data.subarray(offset, offset + 65536));
  await Bun.sleep(1500);
  // Still opening: the proxy read only up to its bound, so most of it waits in the client.
  expect(statuses).toEqual([]);
  expect(ws.bufferedAmount).toBeGreaterThan(total - oneConnection - 4 * 1024 * 1024);
  expect(proxy.rss()).toBeLessThan(160 * 1024 * 1024);

  blackhole.acceptAll();
  // Generous bounds: 48 MiB with SHA-256 on a loaded 2-core machine; they only cap a failure.
  const deadline = Date.now() + 45_000;
  while (statuses.length === 0 && Date.now() < deadline) await Bun.sleep(20);
  expect(statuses).toEqual(["connected"]);
  while (ws.bufferedAmount > 0 && Date.now() < deadline) await Bun.sleep(20);
  ws.close(1000);
  const expected = sha256(data);
  while (!blackhole.finished().includes(expected) && Date.now() < deadline) await Bun.sleep(20);
  expect(blackhole.finished()).toContain(expected);
  await proxy.stop();
  await blackhole.stop();
}, 60_000);
