import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TCPSocketListener } from "bun";
import { randomBytes, sha256 } from "../helpers/bytes.ts";
import { closedPort } from "../helpers/ports.ts";
import { type RunningProxy, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { upgradeAnswer } from "../helpers/upgrade-answer.ts";
import { openClient, type TestClient } from "../helpers/ws-client.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** An echo server on ::1, for IPv6 token entries. */
function startIpv6Echo(): TCPSocketListener {
  return Bun.listen({
    hostname: "::1",
    port: 0,
    socket: { data: (socket, chunk) => void socket.write(chunk) },
  });
}

async function roundTrip(client: TestClient, message: string): Promise<string> {
  client.send(new TextEncoder().encode(message));
  return text(await client.readBytes(message.length));
}

let dir: string;
let echo: TcpTarget;
let ipv6: TCPSocketListener;
let deniedPort: number;
let proxy: RunningProxy;
let refusedPort: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "s2w-tokens-"));
  echo = startTcpTarget("echo");
  ipv6 = startIpv6Echo();
  const denied = startTcpTarget("echo");
  deniedPort = denied.port;
  refusedPort = await closedPort();
  await writeFile(
    join(dir, "a.conf"),
    [
      "# websockify TokenFile format",
      "",
      `alpha: 127.0.0.1:${echo.port}`,
      `  spaced :  127.0.0.1:${echo.port}  `,
      "not a valid line",
      `named: echo.test:${echo.port}`,
      `bad-port: 127.0.0.1:70000`,
      `denied: 127.0.0.1:${deniedPort}`,
      `refused: 127.0.0.1:${refusedPort}`,
      `twice: 127.0.0.1:${refusedPort}`,
    ].join("\n"),
  );
  // b.conf comes after a.conf: its `twice` wins.
  await writeFile(join(dir, "b.conf"), `v6: [::1]:${ipv6.port}\ntwice: 127.0.0.1:${echo.port}\n`);
  proxy = await startProxy(
    [
      "--token-file",
      dir,
      "--route",
      `/vnc=127.0.0.1:${echo.port}`,
      "--route",
      `/refused=127.0.0.1:${refusedPort}`,
      "--deny",
      `127.0.0.1:${deniedPort}`,
      "--log-level",
      "debug",
    ],
    { SOCKET2WEB_TEST_HOSTS: JSON.stringify({ "echo.test": ["127.0.0.1"] }) },
  );
});

afterAll(async () => {
  await proxy?.stop();
  echo?.stop();
  ipv6?.stop(true);
  await rm(dir, { recursive: true, force: true });
});

describe("raw sessions: bytes from the upgrade on", () => {
  test("a route: no greeting, binary both ways, text frames as their UTF-8 bytes", async () => {
    const client = await openClient(`${proxy.url}/vnc`);
    expect(client.ws.protocol).toBe("");
    expect(await roundTrip(client, "RFB 003.008\n")).toBe("RFB 003.008\n");
    client.send("héllo as text");
    const bytes = await client.readBytes(Buffer.byteLength("héllo as text"));
    expect(text(bytes)).toBe("héllo as text");
    client.close();
    await client.closed;
  });

  test.each([
    ["alpha", "an address"],
    ["spaced", "white space around the parts"],
    ["named", "a host name, resolved and checked"],
    ["v6", "an [IPv6]:port entry in a second file of the directory"],
  ])("?token=%s (%s)", async (token) => {
    const client = await openClient(`${proxy.url}/websockify?token=${token}`);
    expect(await roundTrip(client, `hello ${token}`)).toBe(`hello ${token}`);
    client.close();
    await client.closed;
  });

  test("malformed lines are logged with file and line, and skipped", async () => {
    await proxy.waitForOutput(`${join(dir, "a.conf")}:5: expected TOKEN: HOST:PORT`);
    await proxy.waitForOutput(`${join(dir, "a.conf")}:7:`);
    expect(proxy.output()).toContain("the port must be a whole number from 1 to 65535");
    expect((await upgradeAnswer(proxy.port, "/?token=bad-port")).status).toBe(404);
  });

  test("a token repeated in a later file of the directory: a warning names both lines, the later wins", async () => {
    await proxy.waitForOutput(
      `token file: skipped ${join(dir, "a.conf")}:10: its token is given again at ${join(dir, "b.conf")}:2, which wins`,
    );
    expect(proxy.output()).not.toContain("twice:");
    const client = await openClient(`${proxy.url}/?token=twice`);
    expect(await roundTrip(client, "the later file's target")).toBe("the later file's target");
    client.close();
    await client.closed;
  });

  test("the target's end of stream closes the WebSocket with 1000", async () => {
    const closing = startTcpTarget((socket) => socket.end());
    const tokens = join(dir, "c.conf");
    const before = proxy.output().length;
    await writeFile(`${tokens}.tmp`, `closing: 127.0.0.1:${closing.port}\n`);
    await rename(`${tokens}.tmp`, tokens);
    await proxy.waitForOutput((out) => out.slice(before).includes("changed: reloaded 8 tokens"));
    const client = await openClient(`${proxy.url}/?token=closing`);
    expect((await client.closed).code).toBe(1000);
    closing.stop();
    const removing = proxy.output().length;
    await rm(tokens);
    await proxy.waitForOutput((out) => out.slice(removing).includes("changed: reloaded 7 tokens"));
  });
});

describe("subprotocols", () => {
  test.each([
    [["binary"], "binary"],
    [["base64", "binary"], "binary"],
  ])("offering %p selects %p", async (offer, selected) => {
    const client = await openClient(`${proxy.url}/vnc`, offer);
    expect(client.ws.protocol).toBe(selected);
    expect(await roundTrip(client, "sub")).toBe("sub");
    client.close();
    await client.closed;
  });

  test("an offer without binary is refused with 400", async () => {
    const answer = await upgradeAnswer(proxy.port, "/vnc", { "sec-websocket-protocol": "base64" });
    expect(answer.status).toBe(400);
    expect(answer.body).toContain("binary");
  });

  test("a greeting session still refuses every subprotocol", async () => {
    const answer = await upgradeAnswer(proxy.port, "/", { "sec-websocket-protocol": "binary" });
    expect(answer.status).toBe(400);
    expect(answer.body).toContain("no WebSocket subprotocol");
  });
});

describe("refusals before the upgrade, each logged", () => {
  test("an unknown token is 404", async () => {
    const answer = await upgradeAnswer(proxy.port, "/?token=nobody");
    expect(answer.status).toBe(404);
    await proxy.waitForOutput("(404): unknown token");
    expect(proxy.output()).not.toContain("nobody");
  });

  test("a target the policy denies is 403", async () => {
    const answer = await upgradeAnswer(proxy.port, "/?token=denied");
    expect(answer.status).toBe(403);
    await proxy.waitForOutput(`(403): 127.0.0.1:${deniedPort}`);
  });

  test("a target that refuses is 502, from a token or a route", async () => {
    expect((await upgradeAnswer(proxy.port, "/?token=refused")).status).toBe(502);
    expect((await upgradeAnswer(proxy.port, "/refused")).status).toBe(502);
    await proxy.waitForOutput(`(502): 127.0.0.1:${refusedPort}`);
  });

  test("a path without a route and without token= is an ordinary greeting session", async () => {
    const client = await openClient(`${proxy.url}/elsewhere`);
    const greeting = JSON.parse((await client.next()) as string);
    expect(greeting["supported protocols"]).toBeDefined();
    client.close();
    await client.closed;
  });
});

describe("token file reloads", () => {
  test("a new file in the directory is read within seconds", async () => {
    const before = proxy.output().length;
    await writeFile(join(dir, "d.conf"), `fresh: 127.0.0.1:${echo.port}\n`);
    await proxy.waitForOutput((out) => out.slice(before).includes("changed: reloaded 8 tokens"));
    const client = await openClient(`${proxy.url}/?token=fresh`);
    expect(await roundTrip(client, "fresh")).toBe("fresh");
    client.close();
    await client.closed;
  });

  test("SIGHUP re-reads it", async () => {
    const before = proxy.output().length;
    proxy.proc.kill("SIGHUP");
    await proxy.waitForOutput((out) => out.slice(before).includes("SIGHUP received: reloaded"));
  });
});

describe("a single token file", () => {
  test("is re-read when replaced atomically and on SIGHUP; removed tokens stop working", async () => {
    const file = join(dir, "..", `s2w-single-${process.pid}.conf`);
    await writeFile(file, `one: 127.0.0.1:${echo.port}\n`);
    const single = await startProxy(["--token-file", file]);
    try {
      await single.waitForOutput(`raw sessions: 1 token from 1 file in ${file}`);
      expect((await upgradeAnswer(single.port, "/?token=one")).status).toBe(101);
      await writeFile(`${file}.tmp`, `two: 127.0.0.1:${echo.port}\n`);
      await rename(`${file}.tmp`, file);
      await single.waitForOutput("changed: reloaded 1 token from");
      expect((await upgradeAnswer(single.port, "/?token=one")).status).toBe(404);
      expect((await upgradeAnswer(single.port, "/?token=two")).status).toBe(101);
      await writeFile(file, `three: 127.0.0.1:${echo.port}\n`);
      single.proc.kill("SIGHUP");
      await single.waitForOutput("SIGHUP received: reloaded 1 token from");
      expect((await upgradeAnswer(single.port, "/?token=three")).status).toBe(101);
    } finally {
      await single.stop();
      await rm(file, { force: true });
    }
  });
});

describe("a 64 MiB transfer both ways", () => {
  test("arrives intact (SHA-256) through a raw session", async () => {
    const size = 64 * 1024 * 1024;
    const data = randomBytes(size);
    const client = await openClient(`${proxy.url}/vnc`);
    const received = client.readBytes(size, 60_000);
    const chunk = 256 * 1024;
    for (let offset = 0; offset < size; offset += chunk) {
      client.send(data.subarray(offset, offset + chunk));
      // Bounded by waiting for the socket to drain, never by time.
      for (let i = 0; client.ws.bufferedAmount > 4 * chunk && i < 100_000; i++) {
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    expect(sha256(await received)).toBe(sha256(data));
    client.close();
    await client.closed;
  }, 90_000);
});
