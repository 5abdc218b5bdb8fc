import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { runProxyCommand, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { removeTempDir, tempDir } from "../helpers/tls-cert.ts";
import { connectThrough } from "../helpers/ws-client.ts";

let dir: string;
let echo: TcpTarget;
beforeAll(() => {
  dir = tempDir();
  echo = startTcpTarget("echo");
});
afterAll(() => {
  echo.stop();
  removeTempDir(dir);
});

async function configFile(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await Bun.write(path, text);
  return path;
}

async function run(args: string[], env: Record<string, string> = {}) {
  const result = await runProxyCommand(args, { env });
  return { ...result, stderr: result.stderr.trim() };
}

/** The printed value line of `key` in --print-config output. */
const line = (output: string, key: string) =>
  output.split("\n").find((l) => l.startsWith(`${key} = `) || l.startsWith(`# ${key} `));

describe("precedence: flag > environment > file > default", () => {
  test("each source overrides the ones below it, and --print-config names the source", async () => {
    const file = await configFile(
      "precedence.toml",
      [
        "max-connections = 10",
        "timeout = 20",
        "idle-timeout = 30",
        'allow = ["10.0.0.0/8:22", "db.internal:5432"]',
        'deny = "192.168.0.0/16"',
        "require-origin = true",
      ].join("\n"),
    );
    const { stdout, code } = await run(
      ["--config", file, "--print-config", "--max-connections", "12", "--allow", "127.0.0.1"],
      {
        SOCKET2WEB_MAX_CONNECTIONS: "11",
        SOCKET2WEB_TIMEOUT: "21",
        SOCKET2WEB_DENY: "a.test,b.test",
      },
    );
    expect(code).toBe(0);
    expect(line(stdout, "max-connections")).toBe("max-connections = 12  # from --max-connections");
    expect(line(stdout, "timeout")).toBe("timeout = 21  # from SOCKET2WEB_TIMEOUT");
    expect(line(stdout, "idle-timeout")).toBe(`idle-timeout = 30  # from ${file}: idle-timeout`);
    expect(line(stdout, "max-lifetime")).toBe("max-lifetime = 3600  # default");
    // A list comes whole from one source: the flag's rules replace the file's.
    expect(line(stdout, "allow")).toBe('allow = ["127.0.0.1"]  # from --allow');
    expect(line(stdout, "deny")).toBe('deny = ["a.test", "b.test"]  # from SOCKET2WEB_DENY');
    expect(line(stdout, "require-origin")).toBe(
      `require-origin = true  # from ${file}: require-origin`,
    );
  });

  test("the printed configuration is itself a valid config file", async () => {
    const { stdout } = await run(["--print-config", "--allow", "10.0.0.0/8", "--port", "8080"]);
    const saved = await configFile("printed.toml", stdout);
    const again = await run(["--config", saved, "--print-config"]);
    expect(again.code).toBe(0);
    expect(line(again.stdout, "port")).toBe(`port = 8080  # from ${saved}: port`);
    expect(line(again.stdout, "allow")).toBe(`allow = ["10.0.0.0/8"]  # from ${saved}: allow`);
  });

  test("SOCKET2WEB_CONFIG names the file; --no-require-origin beats the file", async () => {
    const file = await configFile("env-named.toml", "require-origin = true\nport = 9000\n");
    const { stdout } = await run(["--print-config", "--no-require-origin"], {
      SOCKET2WEB_CONFIG: file,
    });
    expect(line(stdout, "port")).toBe(`port = 9000  # from ${file}: port`);
    expect(line(stdout, "require-origin")).toBe("require-origin = false  # from --require-origin");
  });

  test("a file's settings take effect in the running server", async () => {
    const file = await configFile(
      "running.toml",
      `deny = ["127.0.0.1:${echo.port}"]\nmax-lifetime = 1\n`,
    );
    const proxy = await startProxy(["--config", file]);
    const denied = await connectThrough(proxy.url, {
      protocol: "tcp",
      target_ip: "127.0.0.1",
      target_port: echo.port,
    });
    expect(denied.status.error).toBe("forbidden");
    await proxy.stop();
  });
});

describe("--print-config masks secrets", () => {
  test("secrets from flags, environment and files never print", async () => {
    const secret = "flag-secret-0123456789abcdef0123456789";
    const fileSecret = "file-secret-0123456789abcdef0123456789";
    const file = await configFile("secret.toml", `ticket-secret = "${fileSecret}"\n`);
    const tokens = "tok-one,tok-two";
    const fromFlag = await run(["--print-config", "--ticket-secret", secret], {
      SOCKET2WEB_AUTH_TOKENS: tokens,
    });
    expect(fromFlag.code).toBe(0);
    expect(line(fromFlag.stdout, "ticket-secret")).toBe(
      'ticket-secret = "********"  # from --ticket-secret',
    );
    expect(line(fromFlag.stdout, "auth-tokens")).toBe(
      '# auth-tokens = "********"  # from SOCKET2WEB_AUTH_TOKENS',
    );
    const fromFile = await run(["--print-config", "--config", file]);
    for (const output of [fromFlag.stdout, fromFile.stdout]) {
      for (const text of [secret, fileSecret, "tok-one", "tok-two"])
        expect(output).not.toContain(text);
    }
  });
});

describe("invalid values name their source, exit 2, one line", () => {
  const cases: [string, string[], Record<string, string>, string, RegExp][] = [
    [
      "env number",
      [],
      { SOCKET2WEB_PORT: "abc" },
      "",
      /^socket2web: SOCKET2WEB_PORT expects a whole number from 1 to 65535, got "abc"$/,
    ],
    [
      "env log level",
      [],
      { SOCKET2WEB_LOG_LEVEL: "loud" },
      "",
      /^socket2web: SOCKET2WEB_LOG_LEVEL expects one of trace/,
    ],
    [
      "env rule",
      [],
      { SOCKET2WEB_ALLOW: "10.0.0.0/8,10.0.0.1/8" },
      "",
      /^socket2web: SOCKET2WEB_ALLOW: invalid rule "10\.0\.0\.1\/8"/,
    ],
    [
      "env switch",
      [],
      { SOCKET2WEB_REQUIRE_ORIGIN: "maybe" },
      "",
      /^socket2web: SOCKET2WEB_REQUIRE_ORIGIN expects true or false/,
    ],
    [
      "env trust-proxy",
      [],
      { SOCKET2WEB_TRUST_PROXY: "10.0.0.0/33" },
      "",
      /^socket2web: SOCKET2WEB_TRUST_PROXY: invalid range "10\.0\.0\.0\/33"/,
    ],
    [
      "file number",
      [],
      {},
      "max-connections = 0\n",
      /^socket2web: .*\.toml: max-connections expects a whole number from 1 to 1000000, got 0$/,
    ],
    [
      "file fraction",
      [],
      {},
      "port = 1.5\n",
      /^socket2web: .*\.toml: port expects a whole number from 1 to 65535, got "1\.5"$/,
    ],
    [
      "file string for number",
      [],
      {},
      'timeout = "soon"\n',
      /^socket2web: .*\.toml: timeout expects a whole number/,
    ],
    [
      "file unknown key",
      [],
      {},
      "prot = 80\n",
      /^socket2web: .*\.toml: unknown key "prot" \(did you mean port\?\)$/,
    ],
    [
      "file flag-only key",
      [],
      {},
      "print-config = true\n",
      /^socket2web: .*\.toml: unknown key "print-config" \(it cannot be set in a file\)$/,
    ],
    [
      "file list type",
      [],
      {},
      "allow = [1, 2]\n",
      /^socket2web: .*\.toml: allow expects a list of strings/,
    ],
    [
      "file switch type",
      [],
      {},
      'require-origin = "yes"\n',
      /^socket2web: .*\.toml: require-origin expects true or false/,
    ],
    [
      "file rule",
      [],
      {},
      'deny = ["*.*.x"]\n',
      /^socket2web: .*\.toml: deny: invalid rule "\*\.\*\.x"/,
    ],
    ["file bad TOML", [], {}, "port = \n", /^socket2web: .*\.toml: not valid TOML: /],
    [
      "file value list",
      [],
      {},
      "port = [1]\n",
      /^socket2web: .*\.toml: port expects a single port, got a list$/,
    ],
    [
      "missing file",
      ["--config", "/nonexistent/s2w.toml"],
      {},
      "",
      /^socket2web: cannot read --config file \/nonexistent\/s2w\.toml: ENOENT$/,
    ],
    [
      "flag wins over a bad env",
      ["--port", "x"],
      { SOCKET2WEB_PORT: "1" },
      "",
      /^socket2web: --port expects a whole number/,
    ],
  ];
  test.each(cases)("%s", async (name, args, env, toml, message) => {
    const extra = toml
      ? ["--config", await configFile(`${name.replaceAll(" ", "-")}.toml`, toml)]
      : [];
    const { stderr, stdout, code } = await run([...args, ...extra, "--print-config"], env);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.split("\n")).toHaveLength(1);
    expect(stderr).not.toMatch(/\bat .*:\d+:\d+/);
    expect(stdout).toBe("");
  });

  test("a valid environment value is used when no flag is given", async () => {
    const { stdout } = await run(["--print-config"], {
      SOCKET2WEB_PORT: "8443",
      SOCKET2WEB_PORT_X: "junk",
    });
    expect(line(stdout, "port")).toBe("port = 8443  # from SOCKET2WEB_PORT");
  });

  test("an empty environment variable counts as unset", async () => {
    const { stdout, code } = await run(["--print-config"], { SOCKET2WEB_PORT: "" });
    expect(code).toBe(0);
    expect(line(stdout, "port")).toBe("port = 433  # default");
  });
});
