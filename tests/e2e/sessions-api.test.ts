// The sessions API (--admin-token-file on --metrics-listen) and `socket2web sessions`, against
// the real server process, real targets and real clients on loopback.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Socket } from "bun";
import { CloseCode, CloseReason } from "../../src/protocol/constants.ts";
import type { SessionView } from "../../src/server/sessions/view.ts";
import { randomBytes, sha256 } from "../helpers/bytes.ts";
import { collectOutput } from "../helpers/output.ts";
import { freePort } from "../helpers/ports.ts";
import {
  childEnv,
  proxyCommand,
  type RunningProxy,
  runProxyCommand,
  runStartupError,
  startProxy,
} from "../helpers/proxy.ts";
import { concat, startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { tempDir } from "../helpers/tls-cert.ts";
import { connectThrough, openClient } from "../helpers/ws-client.ts";
import { connectWisp, openStream } from "../wisp/wisp-client.ts";

const TOKEN = "admin-token-of-the-test-0123456789";
const tcp = (port: number) => ({ protocol: "tcp", target_ip: "127.0.0.1", target_port: port });

interface ListAnswer {
  sessions: SessionView[];
  total: number;
  offset: number;
  limit: number;
  next_offset: number | null;
}

/** A client of the admin listener. */
function adminOf(base: string) {
  /** `token`: null sends no Authorization header. */
  const call = (method: string, path: string, token: string | null = TOKEN) =>
    fetch(`${base}${path}`, {
      method,
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });
  return {
    call,
    async list(query = ""): Promise<ListAnswer> {
      const response = await call("GET", `/sessions${query}`);
      expect(response.status).toBe(200);
      return (await response.json()) as ListAnswer;
    },
    /** Lists until `ready` holds (bounded), for figures that move as bytes flow. */
    async listUntil(ready: (answer: ListAnswer) => boolean, query = ""): Promise<ListAnswer> {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const answer = await this.list(query);
        if (ready(answer)) return answer;
        if (Date.now() > deadline) throw new Error(`not reached: ${JSON.stringify(answer)}`);
        await Bun.sleep(20);
      }
    },
    /** `GET /sessions/events`: events as they arrive, once the subscription is in place. */
    async events(query = "") {
      const response = await call("GET", `/sessions/events${query}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/event-stream");
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      let buffered = "";
      const pull = async (): Promise<string> => {
        for (;;) {
          const end = buffered.indexOf("\n\n");
          if (end !== -1) {
            const block = buffered.slice(0, end);
            buffered = buffered.slice(end + 2);
            return block;
          }
          const { value, done } = await reader.read();
          if (done) throw new Error("the event stream ended");
          buffered += decoder.decode(value, { stream: true });
        }
      };
      expect(await pull()).toBe(": subscribed");
      return {
        async next(): Promise<Record<string, unknown>> {
          for (;;) {
            const block = await pull();
            const data = block.split("\n").find((line) => line.startsWith("data: "));
            if (data) return JSON.parse(data.slice(6)) as Record<string, unknown>;
          }
        },
        cancel: () => reader.cancel(),
      };
    },
  };
}

async function writeToken(dir: string): Promise<string> {
  // The second line is the test's token: every line of the file is one.
  const file = join(dir, "admin-tokens");
  await writeFile(file, `# operators\nsomeone-elses-token-000000000\n${TOKEN}\n`);
  return file;
}

describe("the sessions API on one process", () => {
  let dir: string;
  let echo: TcpTarget;
  let proxy: RunningProxy;
  let admin: ReturnType<typeof adminOf>;
  let adminUrl: string;
  let tokenFile: string;

  beforeAll(async () => {
    dir = tempDir();
    tokenFile = await writeToken(dir);
    echo = startTcpTarget("echo");
    const metricsPort = await freePort();
    adminUrl = `http://127.0.0.1:${metricsPort}`;
    proxy = await startProxy([
      "--metrics-listen",
      `127.0.0.1:${metricsPort}`,
      "--admin-token-file",
      tokenFile,
      "--wisp",
      "/wisp/",
      "--route",
      `/raw=127.0.0.1:${echo.port}`,
    ]);
    await proxy.waitForOutput(`sessions API on ${adminUrl}`);
    admin = adminOf(adminUrl);
  });
  afterAll(async () => {
    await proxy.stop();
    echo.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("list: one session on each front end, with its bytes each way; filters, order and pages", async () => {
    const own = await connectThrough(proxy.url, tcp(echo.port));
    own.client.send(new Uint8Array(1000));
    await own.client.readBytes(1000);
    const raw = await openClient(`${proxy.url}/raw`);
    raw.send(new Uint8Array(2000));
    await raw.readBytes(2000);
    const connection = await connectWisp(`${proxy.url}/wisp/`);
    const stream = openStream(connection, "127.0.0.1", echo.port);
    stream.stream.send(new Uint8Array(3000));
    await stream.received(3000);

    const answer = await admin.list();
    expect(answer.total).toBe(3);
    expect(answer.next_offset).toBeNull();
    const byFrontEnd = new Map(answer.sessions.map((view) => [view.frontend, view]));
    const target = `127.0.0.1:${echo.port}`;
    for (const [frontend, bytes] of [
      ["socket2web", 1000],
      ["raw", 2000],
      ["wisp", 3000],
    ] as const) {
      const view = byFrontEnd.get(frontend) as SessionView;
      expect(view).toMatchObject({
        principal: "anonymous",
        frontend,
        protocol: "tcp",
        target,
        connected_to: target,
        state: "proxying",
        bytes_up: bytes,
        bytes_down: bytes,
        paused: null,
      });
      expect(typeof view.id).toBe("string");
      expect(view.client).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(Date.parse(view.started)).toBeGreaterThan(Date.now() - 60_000);
    }
    expect(byFrontEnd.get("wisp")?.wisp).toEqual({
      connection: expect.any(Number),
      stream: stream.stream.stream_id,
    });
    expect(byFrontEnd.get("raw")?.wisp).toBeUndefined();

    expect((await admin.list("?frontend=wisp")).sessions.map((v) => v.frontend)).toEqual(["wisp"]);
    expect((await admin.list(`?target=${target}&principal=anonymous`)).total).toBe(3);
    expect((await admin.list("?principal=nobody")).total).toBe(0);
    const descending = await admin.list("?sort=-bytes_up");
    expect(descending.sessions.map((v) => v.bytes_up)).toEqual([3000, 2000, 1000]);
    const first = await admin.list("?sort=bytes_down&limit=2");
    expect(first.sessions.map((v) => v.bytes_down)).toEqual([1000, 2000]);
    expect(first.next_offset).toBe(2);
    const second = await admin.list("?sort=bytes_down&limit=2&offset=2");
    expect(second.sessions.map((v) => v.bytes_down)).toEqual([3000]);
    expect(second.next_offset).toBeNull();
    const bad = await admin.call("GET", "/sessions?limit=100000");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain("limit must be");

    own.client.close();
    raw.close();
    connection.close();
    await Promise.all([own.client.closed, raw.closed]);
    await admin.listUntil((now) => now.total === 0);
  });

  test("kill by id: the client gets 4100, the target every byte the proxy accepted, then its end; tail sees it", async () => {
    // A target that says hello, then reads nothing until told: the proxy holds what it accepted.
    let held: Socket<unknown> | undefined;
    const slow = startTcpTarget((socket) => {
      socket.write("hello from the target");
      socket.pause();
      held = socket as Socket<unknown>;
    });
    const events = await admin.events(`?target=127.0.0.1:${slow.port}`);
    const { client } = await connectThrough(proxy.url, tcp(slow.port));
    const opened = await events.next();
    expect(opened).toMatchObject({ event: "opened", session: { frontend: "socket2web" } });
    const id = (opened.session as SessionView).id;
    // Bytes the target sent before the kill reach the client before its close.
    expect(new TextDecoder().decode(await client.readBytes(21))).toBe("hello from the target");
    // More than the kernel's socket buffers and the proxy's 1 MiB backlog together can hold.
    const sent = randomBytes(24 * 1024 * 1024);
    for (let offset = 0; offset < sent.byteLength; offset += 64 * 1024) {
      client.send(sent.subarray(offset, offset + 64 * 1024));
    }
    // The proxy stops reading the client once the target is behind: bytes are held inside it.
    const paused = await admin.listUntil((answer) =>
      answer.sessions.some((view) => view.id === id && view.paused === "client"),
    );
    const accepted = (paused.sessions.find((view) => view.id === id) as SessionView).bytes_up;
    expect(accepted).toBeGreaterThan(0);
    // The target's last words: once the proxy has them, the kill must not lose them.
    const lastWords = randomBytes(256 * 1024);
    held?.write(lastWords);
    await admin.listUntil((answer) =>
      answer.sessions.some(
        (view) => view.id === id && view.bytes_down === 21 + lastWords.byteLength,
      ),
    );

    const killed = await admin.call("DELETE", `/sessions/${id}`);
    expect(killed.status).toBe(200);
    expect(await killed.json()).toEqual({ ended: [id] });
    expect(await client.closed).toEqual({
      code: CloseCode.endedByOperator,
      reason: CloseReason.endedByOperator,
    });
    expect(sha256(await client.readBytes(lastWords.byteLength))).toBe(sha256(lastWords));
    const closed = await events.next();
    expect(closed).toMatchObject({
      event: "closed",
      session: { id },
      close_code: 4100,
      closed_by: "server",
      reason: "ended by operator",
    });
    await proxy.waitForOutput(new RegExp(`session ${id} .* close 4100 by server`));
    const final = (closed.session as SessionView).bytes_up;
    expect(final).toBeGreaterThanOrEqual(accepted);
    // The target reads again: it gets every byte the proxy accepted, in order, then end of stream.
    held?.resume();
    await slow.closedConnections(1);
    const received = concat(slow.received[0] ?? []);
    expect(received.byteLength).toBe(final);
    expect(sha256(received)).toBe(sha256(sent.subarray(0, final)));
    // A session that is gone: 404; a second kill of a flushing or gone one never ends another.
    const again = await admin.call("DELETE", `/sessions/${id}`);
    expect(again.status).toBe(404);
    await events.cancel();
    slow.stop();
  });

  test("kill by principal: every session of the principal ends with 4100, Wisp streams too; others stay", async () => {
    const own = await connectThrough(proxy.url, tcp(echo.port));
    const raw = await openClient(`${proxy.url}/raw`);
    raw.send("x");
    await raw.readBytes(1);
    const connection = await connectWisp(`${proxy.url}/wisp/`);
    const stream = openStream(connection, "127.0.0.1", echo.port);
    stream.stream.send(new Uint8Array([1]));
    await stream.received(1);
    const ids = (await admin.list()).sessions.map((view) => view.id).sort();
    expect(ids).toHaveLength(3);

    const none = await admin.call("DELETE", "/sessions?principal=nobody");
    expect(await none.json()).toEqual({ ended: [] });
    expect((await admin.list()).total).toBe(3);
    // Never everything by a query that names no principal.
    expect((await admin.call("DELETE", "/sessions")).status).toBe(400);
    expect((await admin.call("DELETE", "/sessions?principal=anonymous&frontend=raw")).status).toBe(
      400,
    );

    const all = await admin.call("DELETE", "/sessions?principal=anonymous");
    expect(all.status).toBe(200);
    expect(((await all.json()) as { ended: string[] }).ended.sort()).toEqual(ids);
    expect((await own.client.closed).code).toBe(4100);
    expect(await raw.closed).toEqual({ code: 4100, reason: "ended by operator" });
    // A Wisp stream is a session: its CLOSE comes, its connection stays open.
    expect(await stream.closed).toBe(0x01);
    const after = openStream(connection, "127.0.0.1", echo.port);
    after.stream.send(new Uint8Array([2]));
    await after.received(1);
    connection.close();
    await admin.listUntil((now) => now.total === 0);
  });

  test("the endpoints refuse without a token and with a wrong one, and accept the right one", async () => {
    for (const [method, path] of [
      ["GET", "/sessions"],
      ["DELETE", "/sessions/1"],
      ["DELETE", "/sessions?principal=anonymous"],
      ["GET", "/sessions/events"],
    ] as const) {
      const without = await admin.call(method, path, null);
      expect(without.status).toBe(401);
      expect(without.headers.get("www-authenticate")).toContain("Bearer");
      const wrong = await admin.call(method, path, "not-the-token");
      expect(wrong.status).toBe(401);
      expect(await wrong.text()).toContain("not one of --admin-token-file");
    }
    expect((await admin.call("GET", "/sessions", "someone-elses-token-000000000")).status).toBe(
      200,
    );
    expect((await admin.call("DELETE", "/sessions/nope")).status).toBe(404);
    const basic = await fetch(`${adminUrl}/sessions`, {
      headers: { authorization: `Basic ${btoa(`x:${TOKEN}`)}` },
    });
    expect(basic.status).toBe(401);
  });

  test("nothing of the API is reachable on the proxy's port, not even with the token", async () => {
    const { client } = await connectThrough(proxy.url, tcp(echo.port));
    const [session] = (await admin.list()).sessions;
    for (const [method, path] of [
      ["GET", "/sessions"],
      ["GET", "/sessions/events"],
      ["DELETE", `/sessions/${session?.id}`],
      ["DELETE", "/sessions?principal=anonymous"],
    ] as const) {
      const response = await fetch(`http://127.0.0.1:${proxy.port}${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(response.status).not.toBe(200);
      expect(await response.text()).not.toContain('"sessions"');
    }
    // Still there.
    client.send("still");
    expect(new TextDecoder().decode(await client.readBytes(5))).toBe("still");
    expect((await admin.list()).total).toBe(1);
    client.close();
    await client.closed;
    await admin.listUntil((now) => now.total === 0);
  });

  test("socket2web sessions list|kill|tail: a table for people, --json for scripts", async () => {
    const flags = ["--admin", adminUrl, "--admin-token-file", tokenFile];
    const { client } = await connectThrough(proxy.url, tcp(echo.port));
    client.send(new Uint8Array(10));
    await client.readBytes(10);
    const table = await runProxyCommand(["sessions", "list", ...flags]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+PRINCIPAL\s+CLIENT\s+FRONTEND/);
    expect(table.stdout).toContain(`127.0.0.1:${echo.port}`);
    expect(table.stdout).toContain("1 of 1 sessions");
    const listed = await runProxyCommand(["sessions", "list", "--admin", adminUrl, "--json"], {
      env: { SOCKET2WEB_ADMIN_TOKEN: TOKEN },
    });
    expect(listed.code).toBe(0);
    const [view] = (JSON.parse(listed.stdout) as ListAnswer).sessions;
    expect(view).toMatchObject({ frontend: "socket2web", bytes_up: 10, bytes_down: 10 });

    const tail = Bun.spawn([...proxyCommand(), "sessions", "tail", "--json", ...flags], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: childEnv(),
    });
    const tailOutput = collectOutput(tail);
    await tailOutput.waitFor(`following the sessions of ${adminUrl}`);
    const killed = await runProxyCommand(["sessions", "kill", view?.id as string, ...flags]);
    expect(killed.code).toBe(0);
    expect(killed.stdout).toBe(`ended 1 session: ${view?.id}\n`);
    expect((await client.closed).code).toBe(4100);
    const wrong = await runProxyCommand(["sessions", "list", "--admin", adminUrl], {
      env: { SOCKET2WEB_ADMIN_TOKEN: "wrong" },
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("401");
    const usage = await runProxyCommand(["sessions", "kill", "--admin", adminUrl], {
      env: { SOCKET2WEB_ADMIN_TOKEN: TOKEN },
    });
    expect(usage.code).not.toBe(0);
    expect(usage.stderr).toContain("kill takes one session ID, or --principal NAME");

    // tail saw the killed session end, and follows the next one from its opening to its close.
    await tailOutput.waitFor(/"event":"closed".*"close_code":4100/);
    const second = await connectThrough(proxy.url, tcp(echo.port));
    second.client.close();
    await tailOutput.waitFor((text) => text.split('"event":"closed"').length === 3);
    const events = tailOutput
      .text()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { event: string });
    expect(events.map((event) => event.event)).toEqual(["closed", "opened", "closed"]);
    tail.kill();
    await tail.exited;
  });
});

test("without --admin-token-file the endpoints are off, not open", async () => {
  const metricsPort = await freePort();
  const proxy = await startProxy(["--metrics-listen", `127.0.0.1:${metricsPort}`]);
  await proxy.waitForOutput("metrics, health and readiness on");
  const response = await fetch(`http://127.0.0.1:${metricsPort}/sessions`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  expect(response.status).toBe(404);
  expect(await response.text()).toContain("--admin-token-file");
  await proxy.stop();
});

test("--admin-token-file without --metrics-listen, or with no token in it, is a start-up error in one line", async () => {
  const dir = tempDir();
  const file = await writeToken(dir);
  const run = await runStartupError(["--admin-token-file", file]);
  expect(run.code).not.toBe(0);
  expect(run.stderr).toContain("--admin-token-file needs --metrics-listen");
  const empty = join(dir, "empty");
  await writeFile(empty, "# no token yet\n\n");
  const metrics = ["--metrics-listen", `127.0.0.1:${await freePort()}`];
  const none = await runStartupError([...metrics, "--admin-token-file", empty]);
  expect(none.code).not.toBe(0);
  expect(none.stderr).toContain(`--admin-token-file file ${empty} holds no token`);
  await rm(dir, { recursive: true, force: true });
});

test("--workers 2: the supervisor lists, kills and tails the sessions of every worker", async () => {
  const dir = tempDir();
  const tokenFile = await writeToken(dir);
  const echo = startTcpTarget("echo");
  const metricsPort = await freePort();
  const proxy = await startProxy([
    "--workers",
    "2",
    "--metrics-listen",
    `127.0.0.1:${metricsPort}`,
    "--admin-token-file",
    tokenFile,
  ]);
  await proxy.waitForOutput(/\[worker 1\] socket2web listening/, 15_000);
  await proxy.waitForOutput(/\[worker 2\] socket2web listening/, 15_000);
  await proxy.waitForOutput("sessions API on", 15_000);
  const admin = adminOf(`http://127.0.0.1:${metricsPort}`);
  const events = await admin.events();
  const clients = [];
  for (let i = 0; i < 16; i++) {
    const { client } = await connectThrough(proxy.url, tcp(echo.port));
    client.send(new Uint8Array(i + 1));
    await client.readBytes(i + 1);
    clients.push(client);
  }
  const answer = await admin.list("?sort=bytes_up");
  expect(answer.total).toBe(16);
  expect(answer.sessions.map((view) => view.bytes_up)).toEqual(
    Array.from({ length: 16 }, (_, i) => i + 1),
  );
  const workers = new Set(answer.sessions.map((view) => /^w(\d+)-\d+$/.exec(view.id)?.[1]));
  expect(workers).toEqual(new Set(["1", "2"]));
  // Pages across workers.
  const page = await admin.list("?sort=bytes_up&limit=5&offset=5");
  expect(page.sessions.map((view) => view.bytes_up)).toEqual([6, 7, 8, 9, 10]);
  expect(page.next_offset).toBe(10);
  // Events from both workers, in the supervisor's one stream.
  const seen = new Set<string>();
  while (seen.size < 16) seen.add(((await events.next()).session as SessionView).id);
  expect(new Set([...seen].map((id) => id.split("-")[0]))).toEqual(new Set(["w1", "w2"]));

  // A kill by id reaches the worker the id names.
  for (const worker of ["w1", "w2"]) {
    const view = answer.sessions.find((v) => v.id.startsWith(`${worker}-`)) as SessionView;
    const response = await admin.call("DELETE", `/sessions/${view.id}`);
    expect(await response.json()).toEqual({ ended: [view.id] });
    const client = clients[view.bytes_up - 1];
    expect((await client?.closed)?.code).toBe(4100);
  }
  expect((await admin.call("DELETE", "/sessions/w9-1")).status).toBe(404);
  // Without --state there is no fleet to ask.
  const fleet = await admin.call("GET", "/sessions?scope=fleet");
  expect(fleet.status).toBe(400);
  expect(await fleet.text()).toContain("need --state");
  // A kill with `until` reaches every worker, and each refuses the principal from then on.
  const until = new Date(Date.now() + 60_000).toISOString();
  const rest = await admin.call(
    "DELETE",
    `/sessions?principal=anonymous&until=${encodeURIComponent(until)}`,
  );
  const ended = (await rest.json()) as { ended: string[]; refused_until: string };
  expect(ended.ended).toHaveLength(14);
  expect(ended.refused_until).toBe(until);
  for (const client of clients) expect((await client.closed).code).toBe(4100);
  for (let i = 0; i < 4; i++) {
    const { client, status } = await connectThrough(proxy.url, tcp(echo.port));
    expect(status).toMatchObject({
      status: "error",
      error: "forbidden",
      reason: "this principal's sessions are suspended",
    });
    expect((await client.closed).code).toBe(4403);
  }
  expect(proxy.output()).toContain(
    `anonymous's sessions are refused until ${until} (ended by an operator)`,
  );
  await events.cancel();
  expect(await proxy.stop()).toBe(0);
  echo.stop();
  await rm(dir, { recursive: true, force: true });
}, 60_000);
