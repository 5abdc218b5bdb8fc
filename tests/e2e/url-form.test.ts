import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Blackhole, startBlackhole } from "../helpers/blackhole.ts";
import { closedPort } from "../helpers/ports.ts";
import { type RunningProxy, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { upgradeAnswer } from "../helpers/upgrade-answer.ts";
import { openClient } from "../helpers/ws-client.ts";

let dir: string;
let echo: TcpTarget;
let blackhole: Blackhole;
let denied: TcpTarget;
let deniedPort: number;
let refusedPort: number;
let proxy: RunningProxy;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "s2w-url-form-"));
  await writeFile(join(dir, "tokens"), "s3cret\n");
  refusedPort = await closedPort();
  echo = startTcpTarget("echo");
  denied = startTcpTarget("echo");
  deniedPort = denied.port;
  blackhole = await startBlackhole();
  proxy = await startProxy([
    "--auth-token-file",
    join(dir, "tokens"),
    "--deny",
    `127.0.0.1:${deniedPort}`,
    "--connect-timeout",
    "1",
  ]);
}, 20_000);

afterAll(async () => {
  await proxy?.stop();
  echo?.stop();
  denied?.stop();
  await blackhole?.stop();
  await rm(dir, { recursive: true, force: true });
});

const url = (query: Record<string, string>) => `${proxy.url}/?${new URLSearchParams(query)}`;

/** Opens a URL-form session and returns its first frame (the status) and how it closed. */
async function statusOf(query: Record<string, string>) {
  const client = await openClient(url(query));
  const status = await client.nextJson(10_000);
  return { client, status, closed: status.status === "error" ? await client.closed : undefined };
}

describe("URL-form handshake: no greeting, the status is the first frame", () => {
  test("connected, repeating the fields with target_port as a number; then bytes flow", async () => {
    const { client, status } = await statusOf({
      protocol: "tcp",
      target_ip: "127.0.0.1",
      target_port: String(echo.port),
      token: "s3cret",
    });
    expect(status).toEqual({
      status: "connected",
      protocol: "tcp",
      target_ip: "127.0.0.1",
      target_port: echo.port,
    });
    client.send(new TextEncoder().encode("one round trip"));
    expect(new TextDecoder().decode(await client.readBytes(14))).toBe("one round trip");
    client.close();
    await client.closed;
  });

  test("a token in the query with protocol is the URL form's credential, not a token-file lookup", async () => {
    const { status } = await statusOf({
      protocol: "tcp",
      target_ip: "127.0.0.1",
      target_port: String(echo.port),
    });
    expect(status).toMatchObject({ status: "error", error: "unauthorized" });
  });
});

describe("URL-form errors: the section 4 codes", () => {
  const ok = () => ({ protocol: "tcp", target_ip: "127.0.0.1", token: "s3cret" });
  test.each([
    ["a port with a letter", { target_port: "80a" }, "invalid_handshake", 4400],
    ["a port with a fraction", { target_port: "80.0" }, "invalid_handshake", 4400],
    ["a port with a sign", { target_port: "+80" }, "invalid_handshake", 4400],
    ["a port with a leading zero", { target_port: "080" }, "invalid_handshake", 4400],
    ["port 0", { target_port: "0" }, "invalid_handshake", 4400],
    ["port 65536", { target_port: "65536" }, "invalid_handshake", 4400],
    ["no port", {}, "invalid_handshake", 4400],
    ["an empty port", { target_port: "" }, "invalid_handshake", 4400],
    ["a non-canonical IPv4", { target_port: "80", target_ip: "127.1" }, "invalid_handshake", 4400],
    ["an unknown protocol", { target_port: "80", protocol: "TCP" }, "unsupported_protocol", 4400],
  ])("%s", async (_name, change, error, code) => {
    const query: Record<string, string> = { ...ok(), ...change };
    if (!("target_port" in change)) delete query.target_port;
    const { status, closed } = await statusOf(query);
    expect(status).toMatchObject({ status: "error", error });
    expect(typeof status.reason).toBe("string");
    expect(closed).toEqual({ code, reason: error });
  });

  test("a parameter given twice is invalid_handshake", async () => {
    const client = await openClient(
      `${proxy.url}/?protocol=tcp&target_ip=127.0.0.1&target_port=1&target_port=2&token=s3cret`,
    );
    expect(await client.nextJson()).toMatchObject({ status: "error", error: "invalid_handshake" });
    expect((await client.closed).code).toBe(4400);
  });

  test("a wrong credential is unauthorized (4401)", async () => {
    const { status, closed } = await statusOf({
      ...ok(),
      target_port: String(echo.port),
      token: "wrong",
    });
    expect(status).toMatchObject({ status: "error", error: "unauthorized" });
    expect(closed?.code).toBe(4401);
  });

  test("a denied target is forbidden (4403)", async () => {
    const { status, closed } = await statusOf({ ...ok(), target_port: String(deniedPort) });
    expect(status).toMatchObject({ status: "error", error: "forbidden" });
    expect(closed?.code).toBe(4403);
  });

  test("a refusing target is connect_failed (4502)", async () => {
    const { status, closed } = await statusOf({ ...ok(), target_port: String(refusedPort) });
    expect(status).toMatchObject({ status: "error", error: "connect_failed" });
    expect(closed?.code).toBe(4502);
  });

  test("a target that never accepts is connect_timeout (4504)", async () => {
    const { status, closed } = await statusOf({ ...ok(), target_port: String(blackhole.port) });
    expect(status).toMatchObject({ status: "error", error: "connect_timeout" });
    expect(closed?.code).toBe(4504);
  });

  test("the URL form takes no subprotocol (400 before the upgrade)", async () => {
    const answer = await upgradeAnswer(
      proxy.port,
      `/?protocol=tcp&target_ip=127.0.0.1&target_port=${echo.port}`,
      { "sec-websocket-protocol": "binary" },
    );
    expect(answer.status).toBe(400);
  });
});
