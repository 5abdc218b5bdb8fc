import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startBlackhole } from "../helpers/blackhole.ts";
import { startProxy } from "../helpers/proxy.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { waitForConnectAttempt } from "../helpers/tcp-table.ts";
import { connectThrough, openClient } from "../helpers/ws-client.ts";

let echo: TcpTarget;
beforeAll(() => {
  echo = startTcpTarget("echo");
});
afterAll(() => echo.stop());

const tcp = (port: number) => ({ protocol: "tcp", target_ip: "127.0.0.1", target_port: port });

describe("--max-connections", () => {
  test("past the limit: upgrade accepted, no greeting, close 1013 with the reason; freed slots are reused", async () => {
    const proxy = await startProxy(["--max-connections", "2"]);
    const first = await openClient(proxy.url);
    const second = await connectThrough(proxy.url, tcp(echo.port));
    const refused = await openClient(proxy.url);
    expect(await refused.closed).toEqual({
      code: 1013,
      reason: "server at capacity, try again later",
    });
    await expect(refused.next(100)).rejects.toThrow(/closed/);
    // A refused connection does not count, and a closed one frees its slot.
    first.close();
    await first.closed;
    const third = await openClient(proxy.url);
    expect(Object.keys(await third.nextJson())).toContain("supported protocols");
    second.client.close();
    third.close();
    await proxy.stop();
  });

  test("connections count in every state, also while the target is opening", async () => {
    const blackhole = await startBlackhole();
    const proxy = await startProxy(["--max-connections", "1", "--connect-timeout", "3"]);
    const connecting = await openClient(proxy.url);
    await connecting.nextJson();
    connecting.send(JSON.stringify(tcp(blackhole.port)));
    await waitForConnectAttempt(proxy.proc.pid, blackhole.port);
    const refused = await openClient(proxy.url);
    expect((await refused.closed).code).toBe(1013);
    connecting.close();
    await proxy.stop();
    await blackhole.stop();
  }, 15_000);
});

describe("--max-lifetime", () => {
  test("closes with 4000 'max lifetime reached' at the deadline", async () => {
    const proxy = await startProxy(["--max-lifetime", "1"]);
    const started = performance.now();
    const { client } = await connectThrough(proxy.url, tcp(echo.port));
    expect(await client.closed).toEqual({ code: 4000, reason: "max lifetime reached" });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThan(900);
    expect(elapsed).toBeLessThan(2500);
    await proxy.stop();
  });

  test("0 disables it: a session outlives the 1 s lifetime that 0 overrides", async () => {
    // The environment sets 1 s; the flag's 0 must win and mean "no limit", not "unset" (which
    // would leave the 1 s) and not the 3600 s default (the start-up line would say so).
    const env = { SOCKET2WEB_MAX_LIFETIME: "1" };
    const unlimited = await startProxy(["--max-lifetime", "0"], env);
    const limited = await startProxy([], env);
    await unlimited.waitForOutput(/max lifetime none/);
    const { client } = await connectThrough(unlimited.url, tcp(echo.port));
    const control = await connectThrough(limited.url, tcp(echo.port));
    // The control, opened later, reaching its 1 s lifetime is the event that shows 1 s has passed.
    expect(await control.client.closed).toEqual({ code: 4000, reason: "max lifetime reached" });
    client.send("still here");
    expect(new TextDecoder().decode(await client.readBytes(10))).toBe("still here");
    client.close();
    await Promise.all([unlimited.stop(), limited.stop()]);
  });
});

describe("--idle-timeout", () => {
  test("closes with 4001 'idle timeout' when no byte moves either way, not while bytes flow", async () => {
    const proxy = await startProxy(["--idle-timeout", "1"]);
    const { client } = await connectThrough(proxy.url, tcp(echo.port));
    const idle = await connectThrough(proxy.url, tcp(echo.port));
    let idleClosed = false;
    void idle.client.closed.then(() => {
      idleClosed = true;
    });
    // Bytes flow on one session while the other, opened later, sits idle: its 4001 is the event
    // that shows the timeout has passed, and the busy one must still be open then.
    let roundTrips = 0;
    while (!idleClosed) {
      client.send("x");
      await client.readBytes(1);
      roundTrips++;
    }
    expect(await idle.client.closed).toEqual({ code: 4001, reason: "idle timeout" });
    expect(roundTrips).toBeGreaterThan(0);
    const quietFrom = performance.now();
    expect(await client.closed).toEqual({ code: 4001, reason: "idle timeout" });
    expect(performance.now() - quietFrom).toBeGreaterThan(900);
    await proxy.stop();
  });
});

describe("HTTP", () => {
  test("GET /healthz answers 200 with JSON; other plain requests get 426", async () => {
    const proxy = await startProxy();
    const base = `http://127.0.0.1:${proxy.port}`;
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok" });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
    for (const path of ["/", "/anything"]) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(426);
      expect(response.headers.get("upgrade")).toBe("websocket");
    }
    await proxy.stop();
  });

  test("upgrades work on any path, and offered subprotocols are refused rather than echoed", async () => {
    const proxy = await startProxy();
    const client = await openClient(`${proxy.url}/some/path?x=1`);
    expect(Object.keys(await client.nextJson())).toContain("supported protocols");
    client.close();
    await expect(openClient(proxy.url, "chat")).rejects.toThrow(/failed/);
    await proxy.stop();
  });
});
