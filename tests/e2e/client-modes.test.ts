import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectArgs, forwardArgs, runWithInput, startForward } from "../helpers/client-cli.ts";
import { closedPort } from "../helpers/ports.ts";
import { type RunningProxy, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { tempDir } from "../helpers/tls-cert.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const ORIGIN = "https://app.example.com";
const TOKEN = "s3cret-token-for-the-client-modes-test";

let proxy: RunningProxy;
let echo: TcpTarget;
let dir: string;

beforeAll(async () => {
  echo = startTcpTarget("echo");
  dir = tempDir("socket2web-client-modes-");
  const tokens = join(dir, "tokens");
  writeFileSync(tokens, `${TOKEN}\n`);
  proxy = await startProxy([
    "--allow-origin",
    ORIGIN,
    "--require-origin",
    "--auth-token-file",
    tokens,
  ]);
});

afterAll(async () => {
  await proxy.stop();
  echo.stop();
  rmSync(dir, { recursive: true, force: true });
});

const auth = ["--header", `Authorization: Bearer ${TOKEN}`];
/** What the guarded server asks of a client: the allowed Origin and the credential. */
const guard = ["--origin", ORIGIN, ...auth];

describe("client modes: reaching a guarded server", () => {
  test("connect passes --origin and --header, and the session works", async () => {
    const result = await runWithInput(
      connectArgs(proxy.url, `127.0.0.1:${echo.port}`, ...guard, "--linger", "0.3"),
      new TextEncoder().encode("through the guard\n"),
    );
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(text(result.stdout)).toBe("through the guard\n");
  });

  test("without --origin, connect shows the server's 403 and its reason, not 'Expected 101'", async () => {
    const result = await runWithInput(
      connectArgs(proxy.url, `127.0.0.1:${echo.port}`, ...auth),
      null,
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("refused the upgrade with HTTP 403 Forbidden");
    expect(result.stderr).toMatch(/origin/i);
    expect(result.stderr).toContain("--origin");
    expect(result.stderr).not.toContain("Expected 101");
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });

  test("a wrong credential header shows the server's 401 reason", async () => {
    const result = await runWithInput(
      connectArgs(
        proxy.url,
        `127.0.0.1:${echo.port}`,
        "--origin",
        ORIGIN,
        "--header",
        "Authorization: Bearer wrong",
      ),
      null,
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("HTTP 401 Unauthorized: a valid credential is required");
  });

  test("forward checks the server at start-up: a missing Origin stops it with the reason", async () => {
    const result = await runWithInput(
      forwardArgs("127.0.0.1:0", proxy.url, `127.0.0.1:${echo.port}`, ...auth),
      null,
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(
      /^socket2web: forward: the proxy at .* refused the upgrade with HTTP 403/,
    );
  });

  test.each([
    ["--header", guard],
    ["--token", ["--origin", ORIGIN, "--token", TOKEN]],
  ])("forward with --origin and the credential in %s carries a session", async (_, flags) => {
    const forward = await startForward([
      "--server",
      proxy.url,
      "--target",
      `127.0.0.1:${echo.port}`,
      ...flags,
    ]);
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        let got = "";
        void Bun.connect({
          hostname: "127.0.0.1",
          port: forward.port,
          socket: {
            open(socket) {
              socket.write("ping\n");
            },
            data(socket, chunk) {
              got += text(chunk);
              if (got === "ping\n") {
                resolve(got);
                socket.end();
              }
            },
            close: () => reject(new Error(`closed after ${JSON.stringify(got)}`)),
            error: () => {},
          },
        });
      });
      expect(reply).toBe("ping\n");
    } finally {
      expect(await forward.stop()).toBe(0);
    }
  });

  test.each([
    [
      "no credential",
      [],
      'requires a credential (HTTP 401 without one) (give a credential with --token, or --header "Authorization: Bearer …")',
    ],
    [
      "a wrong --token",
      ["--token", "wrong"],
      "refused the upgrade with HTTP 401 Unauthorized: a valid credential is required: the one given is not valid (the server refused the credential of --token)",
    ],
  ])("forward stops at start-up with %s, before accepting anything", async (_, flags, message) => {
    const result = await runWithInput(
      forwardArgs("127.0.0.1:0", proxy.url, `127.0.0.1:${echo.port}`, "--origin", ORIGIN, ...flags),
      null,
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^socket2web: forward: the proxy at ws:\S+ (refused|requires)/);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toContain("listening on");
  });

  test("forward refuses a protocol the server does not offer, naming what it offers", async () => {
    const result = await runWithInput(
      forwardArgs(
        "127.0.0.1:0",
        proxy.url,
        // unix is offered only with --allow-unix, which this server does not have.
        "unix:/run/socket2web-test-none.sock",
        ...guard,
      ),
      null,
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('does not offer protocol "unix" (it offers tcp');
  });
});

describe("client modes: plain explanations", () => {
  test("connect against a dead server names the address and what to check", async () => {
    const port = await closedPort();
    const result = await runWithInput(
      connectArgs(`ws://127.0.0.1:${port}`, `127.0.0.1:${echo.port}`),
      null,
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(
      `connect: cannot reach the proxy at ws://127.0.0.1:${port}/ (127.0.0.1:${port}): connection refused`,
    );
    expect(result.stderr).toContain("check that socket2web is running there");
  });

  test("forward against a dead server stops at start-up, naming the address", async () => {
    const port = await closedPort();
    const result = await runWithInput(
      forwardArgs("127.0.0.1:0", `ws://127.0.0.1:${port}`, `127.0.0.1:${echo.port}`),
      null,
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`cannot reach the proxy at ws://127.0.0.1:${port}/`);
    expect(result.stderr).not.toContain("listening on");
  });

  test("forward on a port in use reads like the server's bind error", async () => {
    const busy = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const result = await runWithInput(
        forwardArgs(`127.0.0.1:${busy.port}`, proxy.url, `127.0.0.1:${echo.port}`, ...guard),
        null,
      );
      expect(result.exitCode).toBe(1);
      expect(result.stderr.trim()).toBe(
        `socket2web: forward: cannot listen on 127.0.0.1:${busy.port}: port ${busy.port} is already in use by another process; choose another with --listen (port 0 picks a free one)`,
      );
    } finally {
      busy.stop(true);
    }
  });
});

describe("client modes: --linger 0", () => {
  test("waits for the target to close: a reply sent after stdin ended is printed, exit 0", async () => {
    // The target answers only once it has the whole request and a moment has passed: with an
    // immediate close after stdin ends, this reply would be lost.
    const target = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(socket, chunk) {
          if (text(chunk).includes("PING")) {
            setTimeout(() => {
              socket.write("+PONG\r\n");
              socket.end();
            }, 300);
          }
        },
        error() {},
      },
    });
    try {
      const result = await runWithInput(
        connectArgs(proxy.url, `127.0.0.1:${target.port}`, ...guard, "--linger", "0"),
        new TextEncoder().encode("PING\r\n"),
      );
      expect(result.stderr).toBe("");
      expect(text(result.stdout)).toBe("+PONG\r\n");
      expect(result.exitCode).toBe(0);
    } finally {
      target.stop(true);
    }
  });
});
