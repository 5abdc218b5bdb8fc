import { describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { allowedIn, SETTINGS } from "../../src/config/settings.ts";
import { freePort } from "../helpers/ports.ts";
import { runProxyCommand, runStartupError } from "../helpers/proxy.ts";
import { removeTempDir, tempDir } from "../helpers/tls-cert.ts";

const run = (args: string[]) => runProxyCommand(args);

const invalid: [string[], RegExp][] = [
  [["--port", "abc"], /--port expects a whole number from 1 to 65535, got "abc"/],
  [["--port", "1.5"], /--port expects a whole number/],
  [["--port", "0x10"], /--port expects a whole number/],
  [["--port", "1e3"], /--port expects a whole number/],
  [["--port", "0"], /--port expects a whole number from 1 to 65535, got 0/],
  [["--port", "65536"], /--port expects a whole number from 1 to 65535, got 65536/],
  [["--port=-1"], /--port expects a whole number/],
  [["--port"], /--port expects a whole number from 1 to 65535, got no value/],
  [["--timeout", "-1"], /--timeout expects a whole number/],
  [["--timeout", "0"], /--timeout expects a whole number from 1/],
  [["--connect-timeout", "2.5"], /--connect-timeout expects a whole number/],
  [["--max-lifetime", "-5"], /--max-lifetime expects a whole number from 0/],
  [["--max-connections", "0"], /--max-connections expects a whole number from 1/],
  [["--idle-timeout", "x"], /--idle-timeout expects a whole number/],
  [["--max-message-size", "100"], /--max-message-size expects a whole number from 8192/],
  [
    ["--log-level", "verbose"],
    /--log-level expects one of trace, debug, info, warn, error, got "verbose"/,
  ],
  [["--ip", "not-an-ip"], /--ip expects an IPv4 or IPv6 address/],
  [["--ip", "999.1.1.1"], /--ip expects an IPv4 or IPv6 address/],
  [["--prot", "8080"], /unknown flag --prot \(did you mean --port\?\)/],
  [["--max-conections", "5"], /unknown flag --max-conections \(did you mean --max-connections\?\)/],
  [["--frobnicate"], /unknown flag --frobnicate$/m],
  // Other servers' names for our flags: --host is nearer --port by spelling.
  [["--host", "0.0.0.0"], /unknown flag --host \(did you mean --ip\?\)/],
  [["-p", "8080"], /unknown flag -p \(did you mean --port\?\)/],
  [
    ["--allow", "127.0.0.1,127.0.0.2"],
    /--allow: invalid rule "127\.0\.0\.1,127\.0\.0\.2": it holds a comma: give one rule per value \(repeat --allow for each rule\)/,
  ],
  [["extra"], /unknown command or argument "extra"/],
];

describe("invalid command lines exit 2 with one line naming the flag", () => {
  test.each(invalid)("%p", async (args, message) => {
    // Cases about other flags listen on a held port: if one were wrongly accepted, the proxy
    // would fail to bind there at once instead of serving (as root, on the default port).
    const aboutPort = args.some(
      (arg) => arg.startsWith("--port") || arg === "--prot" || arg === "-p",
    );
    const { stderr, stdout, code } = aboutPort ? await run(args) : await runStartupError(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).not.toMatch(/\bat .*:\d+:\d+/);
    expect(stdout).toBe("");
  });
});

describe("help and version", () => {
  test("--help lists every flag of the settings table, each with its default, and exits 0", async () => {
    const { stdout, code } = await run(["--help"]);
    expect(code).toBe(0);
    const flags = Object.entries(SETTINGS).filter(([, setting]) => allowedIn(setting, "flag"));
    // Guards against the table being emptied or renamed under this test.
    expect(flags.length).toBeGreaterThan(20);
    for (const [name, setting] of flags) {
      const line = stdout.split("\n").find((l) => new RegExp(`--${name}(=|\\s|$)`).test(l));
      if (line === undefined) throw new Error(`--${name} is missing from --help:\n${stdout}`);
      if (setting.kind === "value" && setting.default !== undefined) {
        expect(line).toContain(`(Default: ${String(setting.default)})`);
      }
    }
  });

  test("--version prints the package version", async () => {
    const { stdout, code } = await run(["--version"]);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(
      (await Bun.file(new URL("../../package.json", import.meta.url)).json()).version,
    );
  });
});

describe("bind failures are explained in one line", () => {
  test("port in use", async () => {
    const holder = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const { stderr, code } = await run(["--port", String(holder.port)]);
    holder.stop(true);
    expect(code).not.toBe(0);
    expect(stderr.trim()).toMatch(/cannot listen on 127\.0\.0\.1:\d+: the port is already in use/);
  });

  test("address not on this host", async () => {
    // Binding sends nothing: no packet leaves loopback.
    const { stderr, code } = await run(["--ip", "192.0.2.1", "--port", String(await freePort())]);
    expect(code).not.toBe(0);
    expect(stderr.trim()).toMatch(/192\.0\.2\.1 is not an address of this host/);
  });

  test.if(process.getuid?.() === 0)(
    "a privileged port without the privilege suggests --port 8080",
    async () => {
      // nobody may not be able to enter the checkout (a clone in a 0700 folder): run a compiled
      // binary from a folder of its own that anyone can read, with that folder as the cwd.
      const dir = tempDir("socket2web-nobody-");
      try {
        chmodSync(dir, 0o755);
        const binary = await compiledBinaryIn(dir);
        const { stderr, code } = await runProxyCommand(["--ip", "127.0.0.1", "--port", "433"], {
          command: [binary],
          prefix: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
          cwd: dir,
          env: { HOME: dir },
        });
        expect(code).not.toBe(0);
        expect(stderr.trim()).toMatch(
          /permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE, try --port 8080/,
        );
      } finally {
        removeTempDir(dir);
      }
    },
    60_000,
  );
});

/** The executable under test in `dir`, readable by anyone: SOCKET2WEB_BIN copied, or a fresh build. */
async function compiledBinaryIn(dir: string): Promise<string> {
  const binary = join(dir, "socket2web");
  const built = process.env.SOCKET2WEB_BIN;
  if (built) {
    copyFileSync(built, binary);
  } else {
    const root = new URL("../../", import.meta.url).pathname;
    const build = Bun.spawn(
      [process.execPath, "build", "--compile", `${root}src/main.ts`, "--outfile", binary],
      { stdout: "ignore", stderr: "pipe", cwd: root },
    );
    if ((await build.exited) !== 0) throw new Error(await new Response(build.stderr).text());
  }
  chmodSync(binary, 0o755);
  return binary;
}

describe("logging", () => {
  test("start-up line and one line per finished session, with no colour codes when piped", async () => {
    const { startProxy } = await import("../helpers/proxy.ts");
    const { connectThrough } = await import("../helpers/ws-client.ts");
    const { startTcpTarget } = await import("../helpers/targets.ts");
    const echo = startTcpTarget("echo");
    // Without the helpers' NO_COLOR, and with a terminal type that invites colour: only the
    // pipe can keep colour codes out.
    const proxy = await startProxy([], {
      NO_COLOR: undefined,
      FORCE_COLOR: undefined,
      TERM: "xterm-256color",
    });
    const { client } = await connectThrough(proxy.url, {
      protocol: "tcp",
      target_ip: "127.0.0.1",
      target_port: echo.port,
    });
    client.send("12345");
    await client.readBytes(5);
    client.close(1000);
    await proxy.waitForOutput(
      /session \d+ 127\.0\.0\.1:\d+ -> tcp 127\.0\.0\.1:\d+ up 5 B down 5 B [\d.]+s close 1000/,
    );
    await proxy.stop();
    // Complete (exited, both pipes ended): the negatives below cannot be checked too early.
    const output = await proxy.completeOutput();
    expect(output).toMatch(/listening on ws:\/\/127\.0\.0\.1:\d+ \(max 1000 connections/);
    expect(output).not.toContain("\u001b[");
    // Payload bytes never appear at info.
    expect(output).not.toContain("12345");
    echo.stop();
  });
});

describe("payload logging", () => {
  test.each([
    ["debug", false],
    ["trace", true],
  ] as const)("at %s, payload bytes appear: %p (and only truncated)", async (level, shown) => {
    const { startProxy } = await import("../helpers/proxy.ts");
    const { connectThrough } = await import("../helpers/ws-client.ts");
    const { startTcpTarget } = await import("../helpers/targets.ts");
    const echo = startTcpTarget("echo");
    const proxy = await startProxy(["--log-level", level]);
    const { client } = await connectThrough(proxy.url, {
      protocol: "tcp",
      target_ip: "127.0.0.1",
      target_port: echo.port,
    });
    const payload = "A".repeat(40);
    client.send(payload);
    await client.readBytes(40);
    client.close(1000);
    await proxy.waitForOutput(/close 1000/);
    await proxy.stop();
    const output = await proxy.completeOutput();
    const hex = Buffer.from(payload).toString("hex");
    expect(output.includes(hex.slice(0, 64))).toBe(shown);
    expect(output).not.toContain(hex);
    echo.stop();
  });
});
