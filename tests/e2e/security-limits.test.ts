import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startProxy } from "../helpers/proxy.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { connectThrough, openClient, type TestClient } from "../helpers/ws-client.ts";

let echo: TcpTarget;
beforeAll(() => {
  echo = startTcpTarget("echo");
});
afterAll(() => echo.stop());

const PER_IP = { code: 1013, reason: "too many connections from your address, try again later" };
const RATE = {
  code: 1013,
  reason: "too many connection attempts from your address, try again later",
};

const greeted = async (client: TestClient) =>
  Object.keys(await client.nextJson()).includes("supported protocols");

describe("--max-connections-per-ip", () => {
  test("past the limit: accepted, no greeting, close 1013; a closed connection frees its slot", async () => {
    const proxy = await startProxy(["--max-connections-per-ip", "2"]);
    const first = await openClient(proxy.url);
    const second = await openClient(proxy.url);
    expect(await greeted(first)).toBe(true);
    expect(await greeted(second)).toBe(true);
    const third = await openClient(proxy.url);
    expect(await third.closed).toEqual(PER_IP);
    await expect(third.next(100)).rejects.toThrow(/closed/);
    first.close();
    await first.closed;
    const fourth = await openClient(proxy.url);
    expect(await greeted(fourth)).toBe(true);
    second.close();
    fourth.close();
    await proxy.stop();
  });
});

describe("--rate-limit", () => {
  test("a burst passes, the excess closes with 1013, and the bucket refills", async () => {
    const proxy = await startProxy(["--rate-limit", "2", "--rate-limit-burst", "3"]);
    const clients = [];
    for (let i = 0; i < 3; i++) clients.push(await openClient(proxy.url));
    for (const client of clients) expect(await greeted(client)).toBe(true);
    const excess = await openClient(proxy.url);
    expect(await excess.closed).toEqual(RATE);
    // Two tokens a second: one is back well within a second.
    await Bun.sleep(700);
    const later = await openClient(proxy.url);
    expect(await greeted(later)).toBe(true);
    for (const client of [...clients, later]) client.close();
    await proxy.stop();
  });
});

describe("--trust-proxy", () => {
  const xff = (address: string) => ({ headers: { "X-Forwarded-For": address } });

  test("X-Forwarded-For from a trusted peer decides the client address for limits and logs", async () => {
    const proxy = await startProxy([
      "--trust-proxy",
      "127.0.0.0/8",
      "--max-connections-per-ip",
      "1",
    ]);
    const a = await connectThrough(
      proxy.url,
      { protocol: "tcp", target_ip: "127.0.0.1", target_port: echo.port },
      xff("203.0.113.7"),
    );
    expect(a.status.status).toBe("connected");
    const b = await openClient(proxy.url, undefined, xff("198.51.100.9"));
    expect(await greeted(b)).toBe(true);
    const again = await openClient(proxy.url, undefined, xff("10.9.9.9, 203.0.113.7"));
    expect(await again.closed).toEqual(PER_IP);
    a.client.close(1000);
    await proxy.waitForOutput(/session \d+ 203\.0\.113\.7 -> tcp 127\.0\.0\.1:\d+/);
    b.close();
    await proxy.stop();
  });

  test("without --trust-proxy the header is ignored", async () => {
    const proxy = await startProxy(["--max-connections-per-ip", "1"]);
    const a = await openClient(proxy.url, undefined, xff("203.0.113.7"));
    expect(await greeted(a)).toBe(true);
    const b = await openClient(proxy.url, undefined, xff("198.51.100.9"));
    expect(await b.closed).toEqual(PER_IP);
    a.close();
    await proxy.stop();
  });
});

describe("existing limits still hold with the new ones configured", () => {
  test("--idle-timeout closes a quiet session with 4001; --max-message-size closes with 1009", async () => {
    const proxy = await startProxy([
      "--idle-timeout",
      "1",
      "--max-message-size",
      "8192",
      "--max-connections-per-ip",
      "5",
      "--rate-limit",
      "50",
    ]);
    const tcp = { protocol: "tcp", target_ip: "127.0.0.1", target_port: echo.port };
    const quiet = await connectThrough(proxy.url, tcp);
    const started = performance.now();
    expect(await quiet.client.closed).toEqual({ code: 4001, reason: "idle timeout" });
    expect(performance.now() - started).toBeLessThan(3000);
    const big = await connectThrough(proxy.url, tcp);
    big.client.send(new Uint8Array(8193));
    expect((await big.client.closed).code).toBe(1009);
    await proxy.stop();
    // Start-up, two sessions and a 1 s idle timeout: past bun's 5 s default on a loaded machine.
  }, 15_000);
});
