import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { finishedSessions } from "../helpers/policy-attempt.ts";
import { type RunningProxy, runStartupError, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { removeTempDir, tempDir } from "../helpers/tls-cert.ts";
import { upgradeAnswer, upgradeStatus } from "../helpers/upgrade-answer.ts";
import { type ClientOptions, connectThrough, openClient } from "../helpers/ws-client.ts";

const SECRET = "s3cret-ticket-key-of-at-least-32-bytes!!";
const TOKEN = "static-token-7f3a9c";
const ENV_TOKEN = "env-token-55aa";

let echo: TcpTarget;
let other: TcpTarget;
let dir: string;
let tokenFile: string;
beforeAll(async () => {
  echo = startTcpTarget("echo");
  other = startTcpTarget("echo");
  dir = tempDir();
  tokenFile = join(dir, "tokens");
  await Bun.write(tokenFile, `# one per line\n${TOKEN}\n\nsecond-token\n`);
});
afterAll(() => {
  echo.stop();
  other.stop();
  removeTempDir(dir);
});

const tcp = (port: number, extra: Record<string, unknown> = {}) => ({
  protocol: "tcp",
  target_ip: "127.0.0.1",
  target_port: port,
  ...extra,
});

const bearer = (credential: string): ClientOptions => ({
  headers: { Authorization: `Bearer ${credential}` },
});

async function outcome(
  proxy: RunningProxy,
  handshake: Record<string, unknown>,
  options?: ClientOptions,
) {
  const { client, status } = await connectThrough(proxy.url, handshake, options);
  if (status.status === "connected") {
    client.close(1000);
    await client.closed;
    return "connected";
  }
  const { code, reason } = await client.closed;
  return `${reason} ${code}`;
}

const secret = new TextEncoder().encode(SECRET);
const nowSeconds = () => Math.floor(Date.now() / 1000);

function hs256(claims: Record<string, unknown> = {}, key = secret) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt()
    .setExpirationTime(nowSeconds() + 300)
    .sign(key);
}

/** An unsigned JWT (`alg: none`), which must never be accepted. */
function unsigned(claims: Record<string, unknown> = {}): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part({ exp: nowSeconds() + 300, ...claims })}.`;
}

describe("static tokens", () => {
  let proxy: RunningProxy;
  beforeAll(async () => {
    proxy = await startProxy(["--auth-token-file", tokenFile], {
      SOCKET2WEB_AUTH_TOKENS: ENV_TOKEN,
    });
  });
  afterAll(() => proxy.stop());

  test("a handshake token from the file or the environment connects; a missing or wrong one gets 4401", async () => {
    expect(await outcome(proxy, tcp(echo.port, { token: TOKEN }))).toBe("connected");
    expect(await outcome(proxy, tcp(echo.port, { token: "second-token" }))).toBe("connected");
    expect(await outcome(proxy, tcp(echo.port, { token: ENV_TOKEN }))).toBe("connected");
    expect(await outcome(proxy, tcp(echo.port))).toBe("unauthorized 4401");
    expect(await outcome(proxy, tcp(echo.port, { token: "nope" }))).toBe("unauthorized 4401");
    expect(await outcome(proxy, tcp(echo.port, { token: "" }))).toBe("unauthorized 4401");
  });

  test("a good Authorization header needs no handshake token, and overrides a wrong one", async () => {
    expect(await outcome(proxy, tcp(echo.port), bearer(TOKEN))).toBe("connected");
    expect(await outcome(proxy, tcp(echo.port, { token: "wrong" }), bearer(TOKEN))).toBe(
      "connected",
    );
  });

  test("a bad or malformed Authorization header is refused with 401 before the upgrade", async () => {
    expect(await upgradeStatus(proxy.port, { Authorization: "Bearer wrong" })).toBe(401);
    expect(await upgradeStatus(proxy.port, { Authorization: `Basic ${TOKEN}` })).toBe(401);
    expect(await upgradeStatus(proxy.port, { Authorization: `Bearer ${TOKEN}` })).toBe(101);
    expect(await upgradeStatus(proxy.port)).toBe(101);
  });

  test("the unauthorized status says what kind of failure, never the credential", async () => {
    const { status, client } = await connectThrough(proxy.url, tcp(echo.port, { token: "x" }));
    expect(status).toEqual({
      status: "error",
      error: "unauthorized",
      reason: "a valid credential is required: the one given is not valid",
    });
    await client.closed;
    const missing = await connectThrough(proxy.url, tcp(echo.port));
    expect(missing.status).toMatchObject({
      reason: "a valid credential is required: none was given",
    });
    await missing.client.closed;
  });
});

describe("HS256 tickets", () => {
  let proxy: RunningProxy;
  beforeAll(async () => {
    const secretFile = join(dir, "ticket-secret");
    await Bun.write(secretFile, `${SECRET}\n`);
    proxy = await startProxy(["--ticket-secret-file", secretFile]);
  });
  afterAll(() => proxy.stop());

  test("a valid ticket in the handshake or the header connects", async () => {
    expect(await outcome(proxy, tcp(echo.port, { token: await hs256() }))).toBe("connected");
    expect(await outcome(proxy, tcp(echo.port), bearer(await hs256()))).toBe("connected");
  });

  test.each([
    [
      "expired",
      "the ticket has expired",
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: "HS256" })
          .setExpirationTime(nowSeconds() - 60)
          .sign(secret),
    ],
    [
      "not yet valid",
      "the ticket is not valid yet",
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: "HS256" })
          .setNotBefore(nowSeconds() + 600)
          .setExpirationTime(nowSeconds() + 900)
          .sign(secret),
    ],
    [
      "signed with another key",
      "the ticket's signature does not verify",
      () => hs256({}, new TextEncoder().encode("x".repeat(40))),
    ],
    [
      "without exp",
      "the ticket's claims are not valid",
      () => new SignJWT({}).setProtectedHeader({ alg: "HS256" }).sign(secret),
    ],
    ["alg none", "the ticket's algorithm is not accepted", async () => unsigned()],
    [
      "alg none with pins",
      "the ticket's algorithm is not accepted",
      async () => unsigned({ allow: ["0.0.0.0/0"] }),
    ],
  ])(
    "a ticket %s is refused: 4401 in the handshake, 401 in the header, saying %p",
    async (_name, why, make) => {
      const ticket = await make();
      const reason = `a valid credential is required: ${why}`;
      const { status, client } = await connectThrough(proxy.url, tcp(echo.port, { token: ticket }));
      expect(status).toEqual({ status: "error", error: "unauthorized", reason });
      expect((await client.closed).code).toBe(4401);
      const answer = await upgradeAnswer(proxy.port, "/", { Authorization: `Bearer ${ticket}` });
      expect(answer.status).toBe(401);
      expect(answer.body.trim()).toBe(`401 Unauthorized: ${reason}`);
      expect(answer.body).not.toContain(ticket);
    },
  );

  test("ticket pins narrow the server's policy: allow rules and protocols", async () => {
    const pinned = await hs256({ allow: [`127.0.0.1:${echo.port}`] });
    expect(await outcome(proxy, tcp(echo.port, { token: pinned }))).toBe("connected");
    expect(await outcome(proxy, tcp(other.port, { token: pinned }))).toBe("forbidden 4403");
    const before = await other.connectionsSoFar();
    const finished = finishedSessions(proxy.output());
    expect(await outcome(proxy, tcp(other.port), bearer(pinned))).toBe("forbidden 4403");
    // Counted once the session is logged finished and the target has accepted all that came.
    await proxy.waitForOutput((text) => finishedSessions(text) > finished);
    expect(await other.connectionsSoFar()).toBe(before);
    const noTcp = await hs256({ protocols: ["udp"] });
    expect(await outcome(proxy, tcp(echo.port, { token: noTcp }))).toBe("forbidden 4403");
    const tcpOnly = await hs256({ protocols: ["tcp"] });
    expect(await outcome(proxy, tcp(echo.port, { token: tcpOnly }))).toBe("connected");
  });
});

describe("ticket pins never widen the server's rules", () => {
  test("a ticket allowing everything still meets the server's deny and allow rules", async () => {
    const proxy = await startProxy([
      "--ticket-secret",
      SECRET,
      "--allow",
      `127.0.0.1:${echo.port}`,
      "--deny",
      `127.0.0.1:${other.port}`,
    ]);
    const wide = await hs256({ allow: ["0.0.0.0/0", "::/0"] });
    expect(await outcome(proxy, tcp(echo.port, { token: wide }))).toBe("connected");
    expect(await outcome(proxy, tcp(other.port, { token: wide }))).toBe("forbidden 4403");
    expect(await outcome(proxy, { ...tcp(echo.port, { token: wide }), target_ip: "0.0.0.0" })).toBe(
      "forbidden 4403",
    );
    await proxy.stop();
  });
});

describe("public-key tickets", () => {
  test.each(["ES256", "EdDSA"] as const)(
    "%s tickets verify with --ticket-public-key",
    async (alg) => {
      const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
      const keyFile = join(dir, `${alg}.pub.pem`);
      await Bun.write(keyFile, await exportSPKI(publicKey));
      const proxy = await startProxy(["--ticket-public-key", keyFile]);
      const sign = (key: CryptoKey | Uint8Array, header = alg) =>
        new SignJWT({})
          .setProtectedHeader({ alg: header })
          .setExpirationTime(nowSeconds() + 60)
          .sign(key);
      expect(await outcome(proxy, tcp(echo.port, { token: await sign(privateKey) }))).toBe(
        "connected",
      );
      const { privateKey: stranger } = await generateKeyPair(alg);
      expect(await outcome(proxy, tcp(echo.port, { token: await sign(stranger) }))).toBe(
        "unauthorized 4401",
      );
      // HS256 signed with the public key's text: the classic key-confusion attack.
      const confused = await sign(
        new TextEncoder().encode(await exportSPKI(publicKey)),
        "HS256" as typeof alg,
      );
      expect(await outcome(proxy, tcp(echo.port, { token: confused }))).toBe("unauthorized 4401");
      await proxy.stop();
    },
  );
});

describe("credentials never reach the logs", () => {
  test("at trace level, none of the tokens or tickets presented appear in the output", async () => {
    const proxy = await startProxy(
      ["--log-level", "trace", "--auth-token-file", tokenFile, "--ticket-secret", SECRET],
      { SOCKET2WEB_AUTH_TOKENS: ENV_TOKEN },
    );
    const ticket = await hs256({ allow: [`127.0.0.1:${echo.port}`] });
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime(nowSeconds() - 60)
      .sign(secret);
    const wrongToken = "wrong-token-d00d";
    await outcome(proxy, tcp(echo.port, { token: TOKEN }));
    await outcome(proxy, tcp(echo.port, { token: wrongToken }));
    await outcome(proxy, tcp(echo.port), bearer(ENV_TOKEN));
    await outcome(proxy, tcp(other.port, { token: ticket }));
    await outcome(proxy, tcp(echo.port, { token: expired }));
    expect(await upgradeStatus(proxy.port, { Authorization: `Bearer ${wrongToken}` })).toBe(401);
    const refused = await openClient(proxy.url);
    refused.send("{not json");
    await refused.closed;
    await proxy.waitForOutput(/ticket rejected \(expired\)/);
    await proxy.waitForOutput(/forbidden tcp 127\.0\.0\.1:\d+: .*not allowed by the ticket/);
    // The whole output, stdout and stderr, once the process has exited: nothing can come later.
    await proxy.stop();
    const output = await proxy.completeOutput();
    for (const secretText of [TOKEN, ENV_TOKEN, wrongToken, ticket, expired, SECRET]) {
      expect(output).not.toContain(secretText);
    }
    // Every part of a ticket, too: a log line must not carry its signature or payload.
    for (const part of [...ticket.split("."), ...expired.split(".")])
      expect(output).not.toContain(part);
  });
});

describe("bad credential configuration is a start-up error", () => {
  async function run(args: string[], env: Record<string, string> = {}) {
    const { stderr, code } = await runStartupError(args, env);
    return { stderr: stderr.trim(), code };
  }

  test.each([
    [
      ["--ticket-secret", "short"],
      {},
      /^socket2web: --ticket-secret: the ticket secret must be at least 32 bytes/,
    ],
    [
      [],
      { SOCKET2WEB_TICKET_SECRET: "short" },
      /^socket2web: SOCKET2WEB_TICKET_SECRET: the ticket secret must be at least 32 bytes/,
    ],
    [
      ["--auth-token-file", "/nonexistent/tokens"],
      {},
      /^socket2web: cannot read --auth-token-file file \/nonexistent\/tokens: ENOENT/,
    ],
    [[], { SOCKET2WEB_AUTH_TOKENS: " , " }, /^socket2web: SOCKET2WEB_AUTH_TOKENS holds no token/],
    [["--ticket-secret", SECRET, "--ticket-secret-file", "/x"], {}, /both give the ticket secret/],
    [["--ticket-public-key", "/nonexistent/key.pem"], {}, /cannot read --ticket-public-key file/],
  ] as [string[], Record<string, string>, RegExp][])("%p %p", async (args, env, message) => {
    const { stderr, code } = await run(args, env);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.split("\n")).toHaveLength(1);
    expect(stderr).not.toContain('short"');
  });
});
