import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { KERNEL_IN_FLIGHT } from "../helpers/kernel-buffers.ts";
import { samples } from "../helpers/prometheus.ts";
import { type RunningProxy, startProxy } from "../helpers/proxy.ts";
import { openRawClient } from "../helpers/raw-ws.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { upgradeAnswer } from "../helpers/upgrade-answer.ts";
import { openClient } from "../helpers/ws-client.ts";

// A client that leaves while its bytes still wait for a slow target has not finished with the
// server: its session keeps its place under --max-connections and --max-connections-per-ip, and
// shows in /healthz and the metrics, until the target has had every byte and was closed.

let proxy: RunningProxy;
let target: TcpTarget;
const stalled: Socket<unknown>[] = [];
let stalling = true;

beforeAll(async () => {
  target = startTcpTarget((socket) => {
    if (!stalling) return;
    socket.pause();
    stalled.push(socket as Socket<unknown>);
  });
  proxy = await startProxy([
    "--max-connections",
    "2",
    "--max-connections-per-ip",
    "1",
    "--metrics",
    "--route",
    `/pinned=127.0.0.1:${target.port}`,
  ]);
});
afterAll(async () => {
  await proxy?.stop();
  target?.stop();
});

const healthz = async () =>
  (await (await fetch(`http://127.0.0.1:${proxy.port}/healthz`)).json()) as { sessions: number };
const metric = async (name: string) =>
  samples(await (await fetch(`http://127.0.0.1:${proxy.port}/metrics`)).text()).get(name) ?? 0;

describe("a session whose client has gone while its bytes drain", () => {
  test("keeps counting until its target has them all, then frees its place", async () => {
    const client = await openRawClient(proxy.port);
    await client.waitFor(() => client.texts.length === 1);
    client.sendText(
      JSON.stringify({ protocol: "tcp", target_ip: "127.0.0.1", target_port: target.port }),
    );
    await client.waitFor(() => client.texts.length === 2);
    expect(JSON.parse(client.texts[1] as string).status).toBe("connected");
    // More than the server holds for a target that does not read: it stops reading this client.
    const frame = new Uint8Array(60 * 1024);
    // The kernel buffers on the way (up to KERNEL_IN_FLIGHT) take their share first.
    const most = Math.ceil((KERNEL_IN_FLIGHT + 8 * 1024 * 1024) / frame.byteLength);
    for (let i = 0; i < most && client.unsent() === 0; i++) {
      client.sendBinary(frame);
      if (i % 16 === 15) await Bun.sleep(1);
    }
    await client.waitFor(() => client.unsent() > 0, 20_000);
    // The client crashes: a reset, which the server sees even while it is not reading.
    client.terminate();
    await proxy.waitForOutput(/session \d+ 127\.0\.0\.1:\d+ -> tcp [^\n]* close 1006/, 20_000);
    // Gone, but its bytes wait: it still counts, in /healthz and against the per-address limit.
    expect((await healthz()).sessions).toBe(1);
    const second = await openClient(proxy.url);
    expect(await second.closed).toEqual({
      code: 1013,
      reason: "too many connections from your address, try again later",
    });
    // The target reads again: it gets every byte the server took from the client, then its end.
    stalling = false;
    for (const socket of stalled) socket.resume();
    await target.closedConnections(1, 20_000);
    const delivered = (target.received[0] ?? []).reduce((sum, chunk) => sum + chunk.byteLength, 0);
    expect(delivered).toBe(
      await metric('socket2web_bytes_total{direction="client_to_target",protocol="tcp"}'),
    );
    expect(delivered).toBeGreaterThan(1024 * 1024);
    // Only then is its place free.
    for (let i = 0; i < 200 && (await healthz()).sessions > 0; i++) await Bun.sleep(10);
    expect((await healthz()).sessions).toBe(0);
    const third = await openClient(proxy.url);
    expect(await third.nextJson()).toHaveProperty(["supported protocols"]);
    third.close();
    await third.closed;
  }, 60_000);
});

describe("a --route path pins its target", () => {
  test("a URL-form handshake on it is refused with 400 and opens nothing", async () => {
    const before = await target.connectionsSoFar();
    const answer = await upgradeAnswer(
      proxy.port,
      `/pinned?protocol=tcp&target_ip=127.0.0.1&target_port=${target.port}`,
    );
    expect(answer.status).toBe(400);
    expect(answer.body).toBe(
      "400 Bad Request: /pinned is a route to a fixed target; it takes no protocol or target in its URL\n",
    );
    expect(await target.connectionsSoFar()).toBe(before);
  });
});
