// A fleet's sessions, one principal's cap, revocation and counts that heal: three real proxy
// processes (one with two workers) sharing a real redis-server on loopback (`--state`).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CloseCode, CloseReason } from "../../src/protocol/constants.ts";
import { freePort } from "../helpers/ports.ts";
import { type RunningProxy, runProxyCommand, startProxy } from "../helpers/proxy.ts";
import { missingRedisBinaries, type RunningRedis, startRedis } from "../helpers/redis.ts";
import { eventuallyAsync } from "../helpers/streams.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { removeTempDir, tempDir } from "../helpers/tls-cert.ts";
import { openClient, type TestClient } from "../helpers/ws-client.ts";

const missing = missingRedisBinaries();
const ADMIN = "admin-token-of-the-fleet-test-0123456789";
const TOKENS: Record<string, string> = {
  alice: "alice-token-0123456789abcdef",
  bob: "bob-token-0123456789abcdef",
  carol: "carol-token-0123456789abcdef",
  "bob-2": "bob-2-token-0123456789abcdef",
};
/** Told by the close alone: the protocol's status frames carry only its own error codes. */
const PRINCIPAL_LIMIT = {
  code: CloseCode.tryAgainLater,
  reason: "principal_limit",
  said: undefined,
};

interface View {
  id: string;
  principal: string;
  instance?: string;
}
interface ListAnswer {
  sessions: View[];
  total: number;
  unanswered?: number;
}

let dir: string;
let redis: RunningRedis;
let target: TcpTarget;
const proxies: { proxy: RunningProxy; admin: string }[] = [];
const clients: TestClient[] = [];
/** alice's two sessions, held from the first test until the kill by principal ends them. */
const alices: TestClient[] = [];

type Outcome =
  | { readonly opened: true; readonly client: TestClient }
  | {
      readonly opened: false;
      /** The close code and reason, and the status frame's reason before it. */
      readonly closed: { code: number; reason: string; said: unknown };
    };

/** A session of `principal` through `proxy` to the echo target: open, or closed with why. */
async function session(proxy: RunningProxy, principal: string): Promise<Outcome> {
  const client = await openClient(proxy.url);
  clients.push(client);
  await client.nextJson();
  client.send(
    JSON.stringify({
      protocol: "tcp",
      target_ip: "127.0.0.1",
      target_port: target.port,
      token: TOKENS[principal],
    }),
  );
  const status = await Promise.race([client.nextJson(), client.closed]);
  if ("status" in status && status.status === "connected") return { opened: true, client };
  const said = "status" in status ? status.reason : undefined;
  return { opened: false, closed: { ...(await client.closed), said } };
}

async function opened(proxy: RunningProxy, principal: string): Promise<TestClient> {
  const outcome = await session(proxy, principal);
  if (!outcome.opened) throw new Error(`refused: ${JSON.stringify(outcome.closed)}`);
  return outcome.client;
}

async function refused(proxy: RunningProxy, principal: string) {
  const outcome = await session(proxy, principal);
  if (outcome.opened) throw new Error(`${principal} was let in through ${proxy.url}`);
  return outcome.closed;
}

const call = (admin: string, method: string, path: string) =>
  fetch(`${admin}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}` } });

async function fleetList(admin: string, query = ""): Promise<ListAnswer> {
  const response = await call(admin, "GET", `/sessions?scope=fleet${query}`);
  expect(response.status).toBe(200);
  return (await response.json()) as ListAnswer;
}

async function startMember(...more: string[]) {
  const admin = `http://127.0.0.1:${await freePort()}`;
  const proxy = await startProxy([
    "--state",
    `redis://127.0.0.1:${redis.port}`,
    "--state-lease",
    "2",
    "--auth-token-file",
    join(dir, "tokens"),
    "--access",
    join(dir, "access.toml"),
    "--metrics-listen",
    admin.slice("http://".length),
    "--admin-token-file",
    join(dir, "admin"),
    ...more,
  ]);
  const workers = more.includes("--workers") ? 2 : 1;
  await eventuallyAsync(
    async () => (proxy.output().match(/state: connected to Redis/g) ?? []).length >= workers,
    15_000,
  );
  return { proxy, admin };
}

describe.skipIf(missing.length > 0)("--state: sessions, caps and revocation across a fleet", () => {
  beforeAll(async () => {
    dir = tempDir();
    writeFileSync(
      join(dir, "tokens"),
      Object.entries(TOKENS)
        .map(([name, token]) => `${name} ${token}\n`)
        .join(""),
    );
    writeFileSync(join(dir, "admin"), `${ADMIN}\n`, { mode: 0o600 });
    writeFileSync(
      join(dir, "access.toml"),
      '[[rule]]\nprincipals = ["alice", "carol"]\nmax_sessions = 2\n',
    );
    redis = await startRedis();
    target = startTcpTarget("echo");
    proxies.push(await startMember());
    proxies.push(await startMember("--workers", "2"));
    proxies.push(await startMember());
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    for (const { proxy } of proxies) await proxy.stop("SIGKILL");
    await redis?.stop();
    target?.stop();
    removeTempDir(dir);
  });

  test("a principal's max_sessions holds across three instances and two workers; others are not held", async () => {
    const [a, b, c] = proxies.map((member) => member.proxy) as [
      RunningProxy,
      RunningProxy,
      RunningProxy,
    ];
    alices.push(await opened(a, "alice"), await opened(b, "alice"));
    for (const proxy of [a, b, c]) expect(await refused(proxy, "alice")).toEqual(PRINCIPAL_LIMIT);
    await opened(c, "bob");
  }, 30_000);

  test("scope=fleet lists every instance's sessions, each with its instance, from any instance", async () => {
    const lists = await Promise.all(
      proxies.map(({ admin }) => fleetList(admin, "&sort=principal")),
    );
    for (const list of lists) {
      expect(list.total).toBe(3);
      expect(list.unanswered).toBe(0);
      expect(list.sessions.map((view) => view.principal)).toEqual(["alice", "alice", "bob"]);
      expect(new Set(list.sessions.map((view) => view.instance)).size).toBe(3);
    }
    // Without scope, an instance shows its own only.
    const own = await call(proxies[2]?.admin as string, "GET", "/sessions");
    expect(((await own.json()) as ListAnswer).total).toBe(1);
    const bad = await call(proxies[0]?.admin as string, "GET", "/sessions?scope=world");
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("scope must be instance or fleet");
  }, 30_000);

  test("ending a session by id and instance reaches the instance that holds it", async () => {
    const [, , c] = proxies as [unknown, unknown, { proxy: RunningProxy; admin: string }];
    const bob = await opened(c.proxy, "bob");
    const list = await fleetList(proxies[0]?.admin as string, "&principal=bob&sort=-started");
    const newest = list.sessions[0] as View;
    const response = await call(
      proxies[1]?.admin as string,
      "DELETE",
      `/sessions/${newest.id}?instance=${encodeURIComponent(newest.instance as string)}`,
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ended: [newest.id], instance: newest.instance });
    expect(await bob.closed).toEqual({
      code: CloseCode.endedByOperator,
      reason: CloseReason.endedByOperator,
    });
    const gone = await call(
      proxies[0]?.admin as string,
      "DELETE",
      "/sessions/1?instance=no-such-host:1",
    );
    expect(gone.status).toBe(504);
  }, 30_000);

  test("a kill by principal on one instance ends its sessions on all, and refuses new ones until the time", async () => {
    const until = new Date(Date.now() + 120_000).toISOString();
    const response = await call(
      proxies[2]?.admin as string,
      "DELETE",
      `/sessions?principal=alice&until=${encodeURIComponent(until)}`,
    );
    expect(response.status).toBe(200);
    const answer = (await response.json()) as {
      ended: string[];
      instances: Record<string, string[]>;
      unanswered: number;
      refused_until: string;
    };
    expect(answer.ended).toHaveLength(2);
    expect(Object.keys(answer.instances)).toHaveLength(4);
    expect(answer.unanswered).toBe(0);
    expect(answer.refused_until).toBe(until);
    expect((await fleetList(proxies[0]?.admin as string, "&principal=alice")).total).toBe(0);
    expect(alices).toHaveLength(2);
    for (const client of alices) {
      expect(await client.closed).toEqual({
        code: CloseCode.endedByOperator,
        reason: CloseReason.endedByOperator,
      });
    }
    // Every instance refuses alice now, including one that starts after the kill.
    const late = await startMember();
    proxies.push(late);
    for (const { proxy } of proxies) {
      expect(await refused(proxy, "alice")).toEqual({
        code: CloseCode.forbidden,
        reason: "forbidden",
        said: "this principal's sessions are suspended",
      });
    }
    await opened(late.proxy, "bob");
    const past = await call(
      proxies[0]?.admin as string,
      "DELETE",
      "/sessions?principal=alice&until=2001-01-01T00:00:00Z",
    );
    expect(past.status).toBe(400);
    expect(await past.text()).toContain("until is in the past");
  }, 45_000);

  test("socket2web sessions: list --fleet shows each instance; kill --principal --until reaches all", async () => {
    const flags = [
      "--admin",
      proxies[0]?.admin as string,
      "--admin-token-file",
      join(dir, "admin"),
    ];
    const table = await runProxyCommand(["sessions", "list", "--fleet", ...flags]);
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^INSTANCE +ID +PRINCIPAL/);
    expect(table.stdout).toMatch(/\n\S+:\d+ +\S+ +bob /);
    const until = new Date(Date.now() + 60_000).toISOString();
    const killed = await runProxyCommand([
      "sessions",
      "kill",
      "--principal",
      "bob",
      "--until",
      until,
      ...flags,
    ]);
    expect(killed.stdout).toContain(`new sessions of bob are refused until ${until}`);
    expect(killed.stdout).toMatch(/^ended [1-9]\d* sessions?: /);
    expect(await refused(proxies[1]?.proxy as RunningProxy, "bob")).toMatchObject({
      code: CloseCode.forbidden,
    });
    const misuse = await runProxyCommand(["sessions", "kill", "3", "--until", until, ...flags]);
    expect(misuse.code).toBe(2);
    expect(misuse.stderr).toContain("--until goes with --principal");
  }, 30_000);

  test("no count drifts: a principal's slots on instances killed over and over come back, exactly", async () => {
    const [a] = proxies.map((member) => member.proxy) as [RunningProxy];
    for (let round = 0; round < 3; round++) {
      const doomed = await startMember();
      try {
        await opened(doomed.proxy, "carol");
        await opened(doomed.proxy, "carol");
        expect(await refused(a, "carol")).toEqual(PRINCIPAL_LIMIT);
      } finally {
        await doomed.proxy.stop("SIGKILL");
      }
      // Its two slots count until its lease (2 s) runs out, then no longer.
      let back: TestClient | undefined;
      await eventuallyAsync(async () => {
        const outcome = await session(a, "carol");
        if (outcome.opened) back = outcome.client;
        return outcome.opened;
      }, 10_000);
      back?.close();
      await eventuallyAsync(
        async () => (await fleetList(proxies[1]?.admin as string, "&principal=carol")).total === 0,
        10_000,
      );
    }
    // Exactly the cap, neither more (a count lost) nor less (a dead instance's count kept).
    await eventuallyAsync(async () => {
      const outcome = await session(a, "carol");
      if (!outcome.opened) return false;
      outcome.client.close();
      return true;
    }, 10_000);
    const first = await opened(a, "carol");
    const second = await opened(proxies[2]?.proxy as RunningProxy, "carol");
    expect(await refused(proxies[1]?.proxy as RunningProxy, "carol")).toEqual(PRINCIPAL_LIMIT);
    first.close();
    second.close();
  }, 90_000);

  test("Redis gone: fleet questions are a 503 naming it, open sessions carry every byte; back: the fleet answers again", async () => {
    const [a, b] = proxies as [
      { proxy: RunningProxy; admin: string },
      { proxy: RunningProxy; admin: string },
    ];
    const open = await opened(a.proxy, "bob-2");
    const echoed = async (bytes: Uint8Array) => {
      open.send(bytes);
      expect(await open.readBytes(bytes.length, 10_000)).toEqual(bytes);
    };
    await echoed(crypto.getRandomValues(new Uint8Array(20_000)));
    const port = redis.port;
    await redis.stop();
    await a.proxy.waitForOutput("state: Redis unreachable", 10_000);
    await echoed(crypto.getRandomValues(new Uint8Array(20_000)));
    const down = await call(a.admin, "GET", "/sessions?scope=fleet");
    expect(down.status).toBe(503);
    expect(await down.text()).toContain("the shared state (Redis) is unreachable");
    const soon = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());
    const kill = await call(b.admin, "DELETE", `/sessions?principal=nobody&until=${soon}`);
    expect(kill.status).toBe(503);
    expect(await kill.text()).toContain("the revocation cannot be stored");
    const killNow = await call(b.admin, "DELETE", "/sessions?principal=nobody");
    expect(killNow.status).toBe(503);
    const elsewhere = await call(a.admin, "DELETE", "/sessions/1?instance=another-host:1");
    expect(elsewhere.status).toBe(503);
    expect(await elsewhere.text()).toContain("the fleet cannot be asked");
    // This instance's own list needs no Redis.
    expect((await call(a.admin, "GET", "/sessions")).status).toBe(200);
    redis = await startRedis({ port });
    await eventuallyAsync(async () => {
      const response = await call(b.admin, "GET", "/sessions?scope=fleet&principal=bob-2");
      if (response.status !== 200) return false;
      const list = (await response.json()) as ListAnswer;
      return list.total === 1 && list.unanswered === 0;
    }, 20_000);
    await echoed(crypto.getRandomValues(new Uint8Array(20_000)));
    open.close();
  }, 60_000);
});
