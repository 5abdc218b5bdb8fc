import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../helpers/ports.ts";
import { proxyCommand, runProxyCommand, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget } from "../helpers/targets.ts";
import { connectThrough } from "../helpers/ws-client.ts";

const dir = mkdtempSync(join(tmpdir(), "socket2web-startup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tcp = (port: number) => ({ protocol: "tcp", target_ip: "127.0.0.1", target_port: port });

/** One line on stderr, exit 2, nothing on stdout. */
function expectUsageError(run: { code: number; stderr: string; stdout: string }, text: RegExp) {
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(text);
  expect(run.stderr.trim().split("\n")).toHaveLength(1);
  expect(run.stdout).toBe("");
}

test("a SOCKET2WEB_* variable that is no setting is warned of at start-up, with the nearest name", async () => {
  const proxy = await startProxy([], { SOCKET2WEB_PROT: "9999" });
  await proxy.waitForOutput(
    "[warn] SOCKET2WEB_PROT is not a socket2web setting and is ignored (did you mean SOCKET2WEB_PORT?)",
  );
  expect(await proxy.stop()).toBe(0);
});

describe("flags before the command word", () => {
  test("flags before `serve` are applied, not dropped", async () => {
    const echo = startTcpTarget("echo");
    // startProxy puts --ip and --port first: every flag here comes before `serve`.
    const proxy = await startProxy(["--allow", "127.0.0.2/32", "--max-connections", "1", "serve"]);
    expect(proxy.output()).toContain("max 1 connections");
    await proxy.waitForOutput("policy: 1 allow and 0 deny rules");
    const { status } = await connectThrough(proxy.url, tcp(echo.port));
    expect(status.status).toBe("error");
    expect(await proxy.stop()).toBe(0);
    echo.stop();
  });

  test("the issue's form: flags before and after `serve`", async () => {
    const port = await freePort();
    const run = await runProxyCommand([
      "--allow",
      "127.0.0.2/32",
      "--max-connections",
      "1",
      "serve",
      "--port",
      String(port),
      "--print-config",
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('allow = ["127.0.0.2/32"]  # from --allow');
    expect(run.stdout).toContain("max-connections = 1  # from --max-connections");
    expect(run.stdout).toContain(`port = ${port}  # from --port`);
  });

  test("flags before a client command are refused in one line", async () => {
    const run = await runProxyCommand([
      "--port",
      "8080",
      "connect",
      "--server",
      "ws://127.0.0.1:1",
    ]);
    expectUsageError(run, /--port is given before "connect": put connect's flags after it/);
  });
});

describe("settings that must not be silently empty or odd", () => {
  test.each([
    ["SOCKET2WEB_TICKET_SECRET", ""],
    ["SOCKET2WEB_ALLOW", ""],
    ["SOCKET2WEB_AUTH_TOKEN_FILE", ""],
    ["SOCKET2WEB_REQUIRE_ORIGIN", ""],
  ])("%s=%p is an error naming the variable", async (name, value) => {
    const run = await runProxyCommand(["--port", "8080", "--allow", "127.0.0.1/32"], {
      env: { [name]: value },
    });
    expectUsageError(run, new RegExp(`${name} is given but empty`));
  });

  test("an empty security key in the config file is an error naming the file and key", async () => {
    const file = join(dir, "empty.toml");
    writeFileSync(file, 'ticket-secret = ""\n');
    const run = await runProxyCommand(["--port", "8080", "--config", file]);
    expectUsageError(run, /empty\.toml: ticket-secret is given but empty/);
  });

  test("--config /dev/zero fails at once", async () => {
    const started = performance.now();
    const run = await runProxyCommand(["--port", "8080", "--config", "/dev/zero"]);
    expectUsageError(run, /--config file \/dev\/zero is not a regular file/);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  test.each([
    ["--auth-token-file /dev/zero"],
    ["--ticket-secret-file /dev/zero"],
    ["--ticket-public-key /dev/zero"],
    ["--tls-cert /dev/zero --tls-key /dev/zero"],
  ])("%s is refused at once: not a regular file", async (args) => {
    const run = await runProxyCommand(["--port", "8080", ...args.split(" ")]);
    expectUsageError(run, /file \/dev\/zero is not a regular file/);
  });

  test.each(["constructor", "__proto__"])(
    "%s in the config file is an unknown key",
    async (key) => {
      const file = join(dir, `${key}.toml`);
      writeFileSync(file, `${key} = 1\n`);
      const run = await runProxyCommand(["--port", "8080", "--config", file]);
      expectUsageError(run, new RegExp(`unknown key "${key}"`));
    },
  );

  test.each(["0x7f.0.0.1", "127.0.0x1:80", "*.0x7f"])(
    "--allow %s can never match: refused",
    async (rule) => {
      const run = await runProxyCommand(["--port", "8080", "--allow", rule]);
      expectUsageError(run, /never matches/);
    },
  );
});

describe("help", () => {
  test("no colour codes and no trailing spaces when piped, even without NO_COLOR", async () => {
    for (const args of [
      ["--help"],
      ["serve", "--help"],
      ["connect", "--help"],
      ["forward", "--help"],
    ]) {
      const run = await runProxyCommand(args, { env: { NO_COLOR: "", FORCE_COLOR: "1" } });
      expect(run.code).toBe(0);
      expect(run.stdout).not.toContain("\x1b[");
      for (const line of run.stdout.split("\n")) expect(line).toBe(line.trimEnd());
      expect(run.stdout).toContain("EXAMPLES");
    }
    // Four processes one after another: a loaded machine needs more than the default 5 s.
  }, 30_000);

  test("client commands mark required flags and do not list the server's", async () => {
    const run = await runProxyCommand(["connect", "--help"]);
    expect(run.stdout).toMatch(/--server=\S+ +.*\(required\)/);
    expect(run.stdout).toMatch(/--target=\S+ +.*\(required\)/);
    expect(run.stdout).not.toContain("--max-connections");
  });
});

describe("--workers", () => {
  test("workers exit soon after their supervisor is killed, freeing the port", async () => {
    const port = await freePort();
    const proc = Bun.spawn(
      [...proxyCommand(), "--ip", "127.0.0.1", "--port", String(port), "--workers", "2"],
      { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } },
    );
    let workers: number[] = [];
    try {
      // Workers inherit stdout and stderr: both end only when every process holding them exited.
      let text = "";
      const decoder = new TextDecoder();
      const pump = async (stream: ReadableStream<Uint8Array>) => {
        for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
      };
      const outputClosed = Promise.all([pump(proc.stdout), pump(proc.stderr)]);
      for (let i = 0; i < 1500 && (text.match(/socket2web listening/g)?.length ?? 0) < 2; i++) {
        if (proc.exitCode !== null) break;
        await Bun.sleep(10);
      }
      expect(text.match(/socket2web listening/g)).toHaveLength(2);
      workers = readChildren(proc.pid);
      expect(workers).toHaveLength(2);
      proc.kill("SIGKILL");
      const killedAt = performance.now();
      const timeout = new Promise<"timeout">((resolve) =>
        setTimeout(() => resolve("timeout"), 5000).unref(),
      );
      expect(await Promise.race([outputClosed.then(() => "exited" as const), timeout])).toBe(
        "exited",
      );
      expect(performance.now() - killedAt).toBeLessThan(3000);
      for (const pid of workers)
        expect(existsSync(`/proc/${pid}/cmdline`) && isAlive(pid)).toBe(false);
      // A new instance can take the port.
      const listener = Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } });
      listener.stop(true);
    } finally {
      // Should the test fail, no process of it may be left serving.
      proc.kill("SIGKILL");
      for (const pid of workers) if (isAlive(pid)) process.kill(pid, "SIGKILL");
    }
  }, 30_000);
});

function readChildren(pid: number): number[] {
  const text = require("node:fs").readFileSync(
    `/proc/${pid}/task/${pid}/children`,
    "utf8",
  ) as string;
  return text.trim() ? text.trim().split(/\s+/).map(Number) : [];
}

/** A zombie has exited: only a running process counts as alive. */
function isAlive(pid: number): boolean {
  try {
    const stat = require("node:fs").readFileSync(`/proc/${pid}/stat`, "utf8") as string;
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

describe("the start-up lines say where the optional features are", () => {
  test("the console's URL, the Wisp prefix and the capture folder, in text and in JSON", async () => {
    const captures = join(dir, "captures");
    const args = ["--console", "--wisp", "/wisp/", "--capture", captures];
    const text = await startProxy([...args, "--capture-filter", "127.0.0.1:6379"]);
    try {
      const origin = text.url.replace(/^ws/, "http").replace(/\/$/, "");
      await text.waitForOutput(`console page on ${origin}/`);
      await text.waitForOutput(`Wisp on ${text.url.replace(/\/$/, "")}/wisp/`);
      await text.waitForOutput(
        `capture: one pcapng file per session matching 127.0.0.1:6379 in ${captures}`,
      );
    } finally {
      await text.stop();
    }
    const json = await startProxy([...args, "--log-format", "json"]);
    try {
      const origin = json.url.replace(/^ws/, "http").replace(/\/$/, "");
      await json.waitForOutput(`"console":"${origin}/"`);
      await json.waitForOutput(`"capture":"${captures}"`);
    } finally {
      await json.stop();
    }
  }, 30_000);

  test("none of them without their flags", async () => {
    const proxy = await startProxy();
    await proxy.waitForOutput("listening on");
    await proxy.stop();
    expect(proxy.output()).not.toMatch(/console page on|Wisp on|capture:/);
  });
});
