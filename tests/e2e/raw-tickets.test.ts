import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import { type RunningProxy, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { upgradeAnswer } from "../helpers/upgrade-answer.ts";
import { openClient } from "../helpers/ws-client.ts";

const SECRET = "raw-session-ticket-key-of-32-bytes-or-more";

const ticket = (claims: Record<string, unknown>, secret = SECRET) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + 300)
    .sign(new TextEncoder().encode(secret));

let echo: TcpTarget;
let other: TcpTarget;
let proxy: RunningProxy;

beforeAll(async () => {
  echo = startTcpTarget("echo");
  other = startTcpTarget("echo");
  proxy = await startProxy(["--ticket-secret", SECRET, "--route", `/echo=127.0.0.1:${echo.port}`], {
    SOCKET2WEB_TEST_HOSTS: JSON.stringify({ "echo.test": ["127.0.0.1"] }),
  });
});

afterAll(async () => {
  await proxy?.stop();
  echo?.stop();
  other?.stop();
});

async function echoes(url: string): Promise<void> {
  const client = await openClient(url);
  client.send(new TextEncoder().encode("ticket"));
  expect(new TextDecoder().decode(await client.readBytes(6))).toBe("ticket");
  client.close();
  await client.closed;
}

describe("a ticket in ?token= naming its target (host and port claims, as websockify's JWT plugin)", () => {
  test("is both the route and the credential", async () => {
    await echoes(`${proxy.url}/?token=${await ticket({ host: "127.0.0.1", port: echo.port })}`);
  });

  test("host may be a name: resolved once, checked, and the ticket's pin holds for it", async () => {
    await echoes(`${proxy.url}/?token=${await ticket({ host: "echo.test", port: echo.port })}`);
  });

  test("port may be the decimal text of the number", async () => {
    await echoes(
      `${proxy.url}/?token=${await ticket({ host: "127.0.0.1", port: String(echo.port) })}`,
    );
  });

  test("a ticket without host and port names no target: 404", async () => {
    expect((await upgradeAnswer(proxy.port, `/?token=${await ticket({})}`)).status).toBe(404);
    await proxy.waitForOutput("the ticket names no target");
  });

  test("a ticket with a bad signature: 401", async () => {
    const forged = await ticket(
      { host: "127.0.0.1", port: echo.port },
      "another-key-of-at-least-thirty-two-bytes!",
    );
    const answer = await upgradeAnswer(proxy.port, `/?token=${forged}`);
    expect(answer.status).toBe(401);
    expect(answer.body.trim()).toBe(
      "401 Unauthorized: a valid credential is required: the ticket's signature does not verify",
    );
    await proxy.waitForOutput("(401): ticket rejected (bad_signature)");
  });

  test("an expired ticket: 401 saying so", async () => {
    const expired = await new SignJWT({ host: "127.0.0.1", port: echo.port })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(SECRET));
    const answer = await upgradeAnswer(proxy.port, `/?token=${expired}`);
    expect(answer.status).toBe(401);
    expect(answer.body.trim()).toBe(
      "401 Unauthorized: a valid credential is required: the ticket has expired",
    );
  });

  test("a ticket naming a target cannot reach another one through the handshake", async () => {
    const pinned = await ticket({ host: "127.0.0.1", port: echo.port });
    const client = await openClient(
      `${proxy.url}/?protocol=tcp&target_ip=127.0.0.1&target_port=${other.port}&token=${pinned}`,
    );
    expect(await client.nextJson()).toMatchObject({ status: "error", error: "forbidden" });
    expect((await client.closed).code).toBe(4403);
  });
});

describe("a route when a credential is required", () => {
  test("takes the credential in ?token=", async () => {
    await echoes(`${proxy.url}/echo?token=${await ticket({})}`);
  });

  test("or in an Authorization header", async () => {
    const answer = await upgradeAnswer(proxy.port, "/echo", {
      authorization: `Bearer ${await ticket({})}`,
    });
    expect(answer.status).toBe(101);
  });

  test("without one: 401", async () => {
    const answer = await upgradeAnswer(proxy.port, "/echo");
    expect(answer.status).toBe(401);
    expect(answer.body.trim()).toBe(
      "401 Unauthorized: a valid credential is required: none was given",
    );
  });
});
