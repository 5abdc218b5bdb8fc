import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { SignJWT } from "jose";
import { type RunningProxy, startProxy } from "../helpers/proxy.ts";
import { missingRedisBinaries, type RunningRedis, startRedis } from "../helpers/redis.ts";
import { eventuallyAsync } from "../helpers/streams.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { makeCertificate, removeTempDir, tempDir } from "../helpers/tls-cert.ts";
import { openClient, type TestClient } from "../helpers/ws-client.ts";

// Three real proxy processes (one of them with two workers) share their per-address limit through
// a real redis-server on loopback (`--state`). Every client here is 127.0.0.1: one address.

const missing = missingRedisBinaries();
const CONNECTED = "state: connected to Redis";
const UNREACHABLE = "state: Redis unreachable";
const PER_IP = { code: 1013, reason: "too many connections from your address, try again later" };

let redis: RunningRedis;
let target: TcpTarget;
const proxies: RunningProxy[] = [];
const clients: TestClient[] = [];

/** A session through `proxy` to the echo target: connected, or closed with why. */
async function session(proxy: RunningProxy): Promise<TestClient> {
  const client = await openClient(proxy.url);
  clients.push(client);
  await client.nextJson();
  client.send(
    JSON.stringify({ protocol: "tcp", target_ip: "127.0.0.1", target_port: target.port }),
  );
  return client;
}

async function connected(client: TestClient): Promise<void> {
  expect(await client.nextJson()).toMatchObject({ status: "connected" });
}

async function healthz(proxy: RunningProxy): Promise<number> {
  const answer = await fetch(`http://127.0.0.1:${proxy.port}/healthz`);
  return ((await answer.json()) as { sessions: number }).sessions;
}

const stateArgs = (...more: string[]) => [
  "--state",
  `redis://127.0.0.1:${redis.port}`,
  "--state-lease",
  "2",
  "--max-connections-per-ip",
  "2",
  ...more,
];

describe.skipIf(missing.length > 0)("--state: limits shared by a fleet through Redis", () => {
  beforeAll(async () => {
    redis = await startRedis();
    target = startTcpTarget("echo");
    proxies.push(await startProxy(stateArgs()));
    proxies.push(await startProxy(stateArgs("--workers", "2")));
    proxies.push(await startProxy(stateArgs()));
    for (const proxy of proxies) await proxy.waitForOutput(CONNECTED);
  }, 30_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    for (const proxy of proxies) await proxy.stop("SIGKILL");
    await redis?.stop();
    target?.stop();
  });

  test("a per-address limit of 2 holds across three instances and two workers", async () => {
    const [a, b, c] = proxies as [RunningProxy, RunningProxy, RunningProxy];
    const first = await session(a);
    await connected(first);
    const second = await session(b);
    await connected(second);
    // Whichever instance or worker the third reaches, the fleet already holds the address's two.
    for (const proxy of [a, b, c]) {
      const third = await openClient(proxy.url);
      expect(await third.closed).toEqual(PER_IP);
    }
    // One leaves: its place is free for any instance.
    first.close();
    await eventuallyAsync(async () => (await healthz(a)) === 0, 10_000);
    const again = await session(c);
    await connected(again);
    second.close();
    again.close();
    await eventuallyAsync(async () => (await healthz(b)) + (await healthz(c)) === 0, 10_000);
  }, 30_000);

  test("an instance killed without a word stops counting once its lease (2 s) is over", async () => {
    const [a, , c] = proxies as [RunningProxy, RunningProxy, RunningProxy];
    await connected(await session(a));
    await connected(await session(a));
    const refused = await openClient(c.url);
    expect(await refused.closed).toEqual(PER_IP);
    const killedAt = Date.now();
    await a.stop("SIGKILL");
    // Its two sessions count until the lease runs out, then no longer: bounded by the lease.
    let admitted: TestClient | undefined;
    await eventuallyAsync(async () => {
      const client = await openClient(c.url);
      clients.push(client);
      const greeting = await Promise.race([client.nextJson(), client.closed]);
      if ("code" in greeting) return false;
      client.send(
        JSON.stringify({ protocol: "tcp", target_ip: "127.0.0.1", target_port: target.port }),
      );
      const answer = await client.nextJson();
      if (answer.status !== "connected") return false;
      admitted = client;
      return true;
    }, 10_000);
    expect(Date.now() - killedAt).toBeLessThan(2000 + 5000);
    admitted?.close();
  }, 30_000);

  test("Redis gone: each process counts alone; back: fleet-wide again, counts resynchronised", async () => {
    const [, b, c] = proxies as [RunningProxy, RunningProxy, RunningProxy];
    const held = await session(c);
    await connected(held);
    await redis.stop();
    await c.waitForOutput(UNREACHABLE, 10_000);
    // Per process now: c holds one, so it takes one more, and refuses the next.
    await connected(await session(c));
    const refused = await openClient(c.url);
    expect(await refused.closed).toEqual(PER_IP);
    redis = await startRedis({ port: redis.port });
    await eventuallyAsync(
      async () => (c.output().match(/state: connected to Redis/g) ?? []).length >= 2,
      15_000,
    );
    await eventuallyAsync(
      async () => (b.output().match(/state: connected to Redis/g) ?? []).length >= 3,
      15_000,
    );
    // c's two sessions are in the store again: b (another instance) refuses a third.
    await eventuallyAsync(async () => {
      const third = await openClient(b.url);
      const answer = await Promise.race([third.nextJson(), third.closed]);
      third.close();
      return "code" in answer && answer.code === 1013;
    }, 10_000);
    held.close();
  }, 45_000);
});

const SECRET = "a-ticket-secret-of-at-least-32-bytes!!";

/**
 * Two proxies (one with two workers) sharing a Redis of their own, verifying tickets signed with
 * SECRET; `more` adds arguments, given the fixture's directory.
 */
function ticketFleet(more: (dir: string) => string[]) {
  const fixture = {
    dir: "",
    shared: undefined as unknown as RunningRedis,
    echo: undefined as unknown as TcpTarget,
    fleet: [] as RunningProxy[],
    ticket: (claims: Record<string, string>) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "HS256" })
        .setExpirationTime("5m")
        .sign(new TextEncoder().encode(SECRET)),
    /** The status a handshake carrying `token` gets. */
    async statusWith(proxy: RunningProxy, token: string) {
      const client = await openClient(proxy.url);
      await client.nextJson();
      client.send(
        JSON.stringify({
          protocol: "tcp",
          target_ip: "127.0.0.1",
          target_port: fixture.echo.port,
          token,
        }),
      );
      const status = await client.nextJson();
      client.close();
      return status;
    },
  };
  beforeAll(async () => {
    fixture.dir = tempDir();
    fixture.echo = startTcpTarget("echo");
    fixture.shared = await startRedis();
    const secretFile = join(fixture.dir, "secret");
    writeFileSync(secretFile, SECRET, { mode: 0o600 });
    const args = [
      "--state",
      `redis://127.0.0.1:${fixture.shared.port}`,
      "--ticket-secret-file",
      secretFile,
      ...more(fixture.dir),
    ];
    fixture.fleet.push(await startProxy(args));
    fixture.fleet.push(await startProxy([...args, "--workers", "2"]));
    for (const proxy of fixture.fleet) await proxy.waitForOutput(CONNECTED);
  }, 30_000);
  afterAll(async () => {
    for (const proxy of fixture.fleet) await proxy.stop("SIGKILL");
    await fixture.shared?.stop();
    fixture.echo?.stop();
    removeTempDir(fixture.dir);
  });
  return fixture;
}

describe.skipIf(missing.length > 0)(
  "--state with --ticket-single-use: a ticket once per fleet",
  () => {
    const tickets = ticketFleet(() => ["--ticket-single-use"]);
    const ticket = (jti: string) => tickets.ticket({ jti });
    const statusWith = tickets.statusWith;

    test("used on one instance, refused on the others (and on the first again)", async () => {
      const [one, two] = tickets.fleet as [RunningProxy, RunningProxy];
      const used = await ticket("jti-once-1");
      expect(await statusWith(one, used)).toMatchObject({ status: "connected" });
      for (const proxy of [two, two, one]) {
        expect(await statusWith(proxy, used)).toEqual({
          status: "error",
          error: "unauthorized",
          reason: "a valid credential is required: the ticket was already used",
        });
      }
      expect(await statusWith(two, await ticket("jti-once-2"))).toMatchObject({
        status: "connected",
      });
    }, 30_000);

    test("Redis gone: single-use tickets are refused, never accepted twice; back: accepted again", async () => {
      const [one] = tickets.fleet as [RunningProxy, RunningProxy];
      const port = tickets.shared.port;
      await tickets.shared.stop();
      await one.waitForOutput("single-use tickets are refused until it is back", 10_000);
      const status = await statusWith(one, await ticket("jti-while-down"));
      expect(status).toMatchObject({ status: "error", error: "unauthorized" });
      tickets.shared = await startRedis({ port });
      await one.waitForOutput("single-use tickets are checked in Redis again", 15_000);
      expect(await statusWith(one, await ticket("jti-after"))).toMatchObject({
        status: "connected",
      });
    }, 40_000);
  },
);

describe.skipIf(missing.length > 0)(
  "--state with an access rule's single_use_tickets: its tickets once per fleet, others reusable",
  () => {
    // With --state, several workers may keep the key: Redis remembers for all of them.
    const tickets = ticketFleet((dir) => {
      const access = join(dir, "access.toml");
      writeFileSync(
        access,
        '[[rule]]\nprincipals = ["kiosk-*"]\nsingle_use_tickets = true\n\n[default]\nsingle_use_tickets = false\n',
      );
      return ["--access", access];
    });
    const ticket = (sub: string, jti: string) => tickets.ticket({ sub, jti });
    const statusWith = tickets.statusWith;

    test("a kiosk's ticket used on one instance is refused on the others; a staff ticket works on all", async () => {
      const [one, two] = tickets.fleet as [RunningProxy, RunningProxy];
      const kiosk = await ticket("kiosk-7", "fleet-kiosk-1");
      expect(await statusWith(one, kiosk)).toMatchObject({ status: "connected" });
      for (const proxy of [two, two, one]) {
        expect(await statusWith(proxy, kiosk)).toEqual({
          status: "error",
          error: "unauthorized",
          reason: "a valid credential is required: the ticket was already used",
        });
      }
      const staff = await ticket("staff-1", "fleet-staff-1");
      for (const proxy of [one, two, two, one]) {
        expect(await statusWith(proxy, staff)).toMatchObject({ status: "connected" });
      }
    }, 30_000);
  },
);

describe.skipIf(missing.length > 0)("--state with a password and with TLS", () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(() => removeTempDir(dir));

  test("a password from --state-password-file; a wrong one is reported, and limits stay local", async () => {
    const guarded = await startRedis({ args: ["--requirepass", "fleet-secret"] });
    try {
      const right = join(dir, "right");
      writeFileSync(right, "fleet-secret\n", { mode: 0o600 });
      const ok = await startProxy([
        "--state",
        `redis://127.0.0.1:${guarded.port}`,
        "--state-password-file",
        right,
      ]);
      await ok.waitForOutput(CONNECTED);
      await ok.stop();
      const wrong = await startProxy(["--state", `redis://127.0.0.1:${guarded.port}`], {
        SOCKET2WEB_STATE_PASSWORD: "not-it",
      });
      await wrong.waitForOutput(UNREACHABLE);
      expect(wrong.output()).not.toContain("not-it");
      await wrong.stop();
    } finally {
      await guarded.stop();
    }
  }, 30_000);

  test("rediss:// to a TLS Redis whose certificate --state-ca trusts", async () => {
    const cert = await makeCertificate(dir, "redis");
    const secure = await startRedis({
      tls: true,
      args: [
        "--tls-cert-file",
        cert.certFile,
        "--tls-key-file",
        cert.keyFile,
        "--tls-ca-cert-file",
        cert.certFile,
        "--tls-auth-clients",
        "no",
      ],
    });
    try {
      const proxy = await startProxy([
        "--state",
        `rediss://127.0.0.1:${secure.port}`,
        "--state-ca",
        cert.certFile,
      ]);
      await proxy.waitForOutput(CONNECTED);
      await proxy.stop();
    } finally {
      await secure.stop();
    }
  }, 30_000);
});
