// Where each session's principal comes from, as its log line shows it: a trusted proxy's identity
// header (and only a trusted one's), the Wisp password extension's user name, a websockify
// token-file entry, and `anonymous` without any credential. Against the real process.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Outcome } from "../frontends/driver.ts";
import { openRawSession, openStatusSession, openWispSession } from "../frontends/sessions.ts";
import { type RunningProxy, runStartupError, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { removeTempDir, tempDir } from "../helpers/tls-cert.ts";

let echo: TcpTarget;
let dir: string;
beforeAll(() => {
  echo = startTcpTarget("echo");
  dir = tempDir("socket2web-principals-");
});
afterAll(() => {
  echo.stop();
  removeTempDir(dir);
});

const handshake = () => ({ protocol: "tcp", target_ip: "127.0.0.1", target_port: echo.port });

const sessionLines = (proxy: RunningProxy) =>
  proxy
    .output()
    .split("\n")
    .filter((line) => / session \d+ .* principal=/.test(line));

/** Opens (`open`), echoes one message, closes, and waits for the session's line; returns it. */
async function lineOf(proxy: RunningProxy, open: () => Promise<Outcome>): Promise<string> {
  const seen = sessionLines(proxy).length;
  const outcome = await open();
  if (!outcome.opened) throw new Error(`refused: ${JSON.stringify(outcome.signal)}`);
  outcome.session.send(new TextEncoder().encode("hi"));
  await outcome.session.read(2);
  outcome.session.close();
  await outcome.session.closed;
  await proxy.waitForOutput(() => sessionLines(proxy).length > seen);
  return sessionLines(proxy)[seen] as string;
}

async function running(args: string[], body: (proxy: RunningProxy) => Promise<void>) {
  const proxy = await startProxy(args);
  try {
    await body(proxy);
  } finally {
    await proxy.stop();
  }
}

describe("principals", () => {
  test("no credential configured: anonymous", async () => {
    await running([], async (proxy) => {
      const line = await lineOf(proxy, () => openStatusSession(`${proxy.url}/`, {}, handshake()));
      expect(line).toEndWith(" principal=anonymous");
    });
  }, 20_000);

  test("--identity-header from a --trust-proxy peer names the principal, and the access rules see it", async () => {
    const access = join(dir, "header-access.toml");
    await Bun.write(
      access,
      `[[rule]]\nprincipals = ["mallory@example.com"]\ndeny = ["127.0.0.1:${echo.port}"]\n`,
    );
    await running(
      [
        "--trust-proxy",
        "127.0.0.1/32",
        "--identity-header",
        "X-Auth-Request-User",
        "--access",
        access,
      ],
      async (proxy) => {
        const headers = { "x-auth-request-user": "alice@example.com" };
        const line = await lineOf(proxy, () =>
          openStatusSession(`${proxy.url}/`, headers, handshake()),
        );
        expect(line).toEndWith(" principal=alice@example.com");
        const refused = await openStatusSession(
          `${proxy.url}/`,
          { "x-auth-request-user": "mallory@example.com" },
          handshake(),
        );
        expect(refused).toEqual({ opened: false, signal: { close: 4403 } });
      },
    );
  }, 20_000);

  test("--identity-header from a peer outside --trust-proxy is ignored, and logged once", async () => {
    await running(
      ["--trust-proxy", "10.0.0.0/8", "--identity-header", "X-Auth-Request-User"],
      async (proxy) => {
        const headers = { "x-auth-request-user": "alice@example.com" };
        for (let i = 0; i < 2; i++) {
          const line = await lineOf(proxy, () =>
            openStatusSession(`${proxy.url}/`, headers, handshake()),
          );
          expect(line).toEndWith(" principal=anonymous");
        }
        const ignored = proxy.output().match(/ignored x-auth-request-user from/g) ?? [];
        expect(ignored).toHaveLength(1);
      },
    );
  }, 20_000);

  test("--identity-header without --trust-proxy is a usage error", async () => {
    const run = await runStartupError(["--identity-header", "X-User"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("needs --trust-proxy");
  }, 20_000);

  test("Wisp: the password extension's user name names the principal of an unnamed token, not of a named one", async () => {
    const tokens = join(dir, "wisp-tokens");
    await Bun.write(tokens, "shared-token-1\nbob named-token-2\n");
    await running(["--wisp", "/wisp/", "--auth-token-file", tokens], async (proxy) => {
      const target = { host: "127.0.0.1", port: echo.port, transport: "tcp" as const };
      const open = (credential: string, user: string) =>
        openWispSession(`${proxy.url}/wisp/`, {}, target, credential, user);
      expect(await lineOf(proxy, () => open("shared-token-1", "carol"))).toEndWith(
        " principal=carol",
      );
      // A named token keeps its name: a chosen user name cannot pass for another principal.
      expect(await lineOf(proxy, () => open("named-token-2", "alice"))).toEndWith(" principal=bob");
    });
  }, 20_000);

  test("--token-file: the entry's token names the principal when no credential is configured", async () => {
    const file = join(dir, "targets");
    await Bun.write(file, `vnc-desk-1: 127.0.0.1:${echo.port}\n`);
    await running(["--token-file", file], async (proxy) => {
      const line = await lineOf(proxy, () => openRawSession(`${proxy.url}/?token=vnc-desk-1`, {}));
      expect(line).toEndWith(" principal=vnc-desk-1");
    });
  }, 20_000);

  test("--log-format json: the principal is a field", async () => {
    await running(["--log-format", "json"], async (proxy) => {
      const outcome = await openStatusSession(`${proxy.url}/`, {}, handshake());
      if (!outcome.opened) throw new Error("refused");
      outcome.session.close();
      await outcome.session.closed;
      await proxy.waitForOutput((text) => text.includes('"principal":"anonymous"'));
    });
  }, 20_000);
});
