import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TCPSocketListener } from "bun";
import { proxyCommand, type RunningProxy, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { connectThrough } from "../helpers/ws-client.ts";

// Every name the proxy resolves in these tests comes from this map: nothing asks DNS.
const TEST_HOSTS = JSON.stringify({
  localhost: ["127.0.0.1"],
  "evil.test": ["169.254.169.254"],
  "zero.test": ["0.0.0.0"],
  "mixed.test": ["127.0.0.1", "169.254.169.254"],
  "mapped.test": ["::ffff:127.0.0.1"],
  "app.test": ["127.0.0.1"],
});

const startPolicyProxy = (args: string[]) =>
  startProxy(args, { SOCKET2WEB_TEST_HOSTS: TEST_HOSTS });

let echo: TcpTarget;
let other: TcpTarget;
beforeAll(() => {
  echo = startTcpTarget("echo");
  other = startTcpTarget("echo");
});
afterAll(() => {
  echo.stop();
  other.stop();
});

interface Outcome {
  readonly status: string;
  readonly error?: string;
  readonly code: number;
}

/** One handshake through the proxy; the session is closed afterwards either way. */
async function attempt(proxy: RunningProxy, target_ip: string, target_port: number) {
  const { client, status } = await connectThrough(proxy.url, {
    protocol: "tcp",
    target_ip,
    target_port,
  });
  if (status.status === "connected") {
    client.close(1000);
    const { code } = await client.closed;
    return { status: "connected", code } satisfies Outcome;
  }
  const { code, reason } = await client.closed;
  expect(reason).toBe(status.error as string);
  return { status: "error", error: status.error as string, code } satisfies Outcome;
}

const forbidden: Outcome = { status: "error", error: "forbidden", code: 4403 };
const connected = { status: "connected" };

/** Asserts a handshake was refused with `expected` and that the target never saw a connection. */
async function refusedWithoutConnecting(
  proxy: RunningProxy,
  target_ip: string,
  target: TcpTarget,
  expected: Outcome = forbidden,
) {
  const before = target.received.length;
  expect(await attempt(proxy, target_ip, target.port)).toEqual(expected);
  // A connection attempt would have reached the listener by now: the proxy answers after it.
  await Bun.sleep(50);
  expect(target.received.length).toBe(before);
}

describe("no rules: the built-in denied classes only", () => {
  let proxy: RunningProxy;
  beforeAll(async () => {
    proxy = await startPolicyProxy([]);
  });
  afterAll(() => proxy.stop());

  // Connecting to 0.0.0.0 or :: reaches this host's loopback listeners on Linux, so each of
  // these would reach the echo target if the policy let it through.
  test.each(["0.0.0.0", "::", "::ffff:0.0.0.0", "0.1.2.3", "zero.test"])(
    "%s (unspecified) is forbidden and never connected",
    async (host) => {
      await refusedWithoutConnecting(proxy, host, echo);
    },
  );

  test.each([
    "169.254.169.254",
    "::ffff:169.254.169.254",
    "::ffff:a9fe:a9fe",
    "64:ff9b::a9fe:a9fe",
    "224.0.0.1",
    "ff02::1",
    "255.255.255.255",
    "evil.test",
    "EVIL.test.",
  ])("%s is forbidden with 4403", async (host) => {
    expect(await attempt(proxy, host, echo.port)).toEqual(forbidden);
  });

  test("a name with one denied address among allowed ones is forbidden and never connected", async () => {
    await refusedWithoutConnecting(proxy, "mixed.test", echo);
  });

  test.each([
    "127.0.0.1",
    "localhost",
    "localhost.",
    "LocalHost",
    "::ffff:127.0.0.1",
    "mapped.test",
  ])("%s (loopback) is allowed by default", async (host) => {
    expect(await attempt(proxy, host, echo.port)).toMatchObject(connected);
  });

  test.each(["127.1", "2130706433", "0177.0.0.1", "0x7f.0.0.1", "127.0.0.01", "::ffff:0177.0.0.1"])(
    "numeric form %s is invalid_handshake and never resolved or connected",
    async (host) => {
      await refusedWithoutConnecting(proxy, host, echo, {
        status: "error",
        error: "invalid_handshake",
        code: 4400,
      });
    },
  );

  test("a name outside the test map fails as unresolvable, without DNS", async () => {
    expect(await attempt(proxy, "nowhere.test", echo.port)).toEqual({
      status: "error",
      error: "connect_failed",
      code: 4502,
    });
  });
});

describe("deny rules apply to every spelling of an address", () => {
  let proxy: RunningProxy;
  beforeAll(async () => {
    proxy = await startPolicyProxy(["--deny", "127.0.0.0/8"]);
  });
  afterAll(() => proxy.stop());

  test.each([
    "127.0.0.1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "0:0:0:0:0:ffff:7f00:1",
    "::127.0.0.1",
    "localhost",
    "localhost.",
    "LOCALHOST",
    "mapped.test",
    "app.test",
  ])("%s is forbidden and never connected", async (host) => {
    await refusedWithoutConnecting(proxy, host, echo);
  });
});

describe("allow rules: only what they allow", () => {
  test("ports at the edges of an allowed range; one past each edge is forbidden", async () => {
    const low = Math.min(echo.port, other.port);
    const high = Math.max(echo.port, other.port);
    const proxy = await startPolicyProxy(["--allow", `127.0.0.1:${low}-${high}`]);
    expect(await attempt(proxy, "127.0.0.1", low)).toMatchObject(connected);
    expect(await attempt(proxy, "127.0.0.1", high)).toMatchObject(connected);
    expect(await attempt(proxy, "127.0.0.1", low - 1)).toEqual(forbidden);
    expect(await attempt(proxy, "127.0.0.1", high + 1)).toEqual(forbidden);
    // Not in any allow rule: other addresses, and names that resolve elsewhere.
    expect(await attempt(proxy, "127.0.0.2", low)).toEqual(forbidden);
    expect(await attempt(proxy, "::1", low)).toEqual(forbidden);
    await proxy.stop();
  });

  test("deny wins over allow", async () => {
    const proxy = await startPolicyProxy([
      "--allow",
      "127.0.0.0/8",
      "--deny",
      `127.0.0.1:${echo.port}`,
    ]);
    await refusedWithoutConnecting(proxy, "127.0.0.1", echo);
    await refusedWithoutConnecting(proxy, "::ffff:127.0.0.1", echo);
    expect(await attempt(proxy, "127.0.0.1", other.port)).toMatchObject(connected);
    await proxy.stop();
  });

  test("a host-name rule allows the name, not its address", async () => {
    const proxy = await startPolicyProxy(["--allow", `app.test:${echo.port}`]);
    expect(await attempt(proxy, "app.test", echo.port)).toMatchObject(connected);
    expect(await attempt(proxy, "APP.test.", echo.port)).toMatchObject(connected);
    await refusedWithoutConnecting(proxy, "127.0.0.1", echo);
    expect(await attempt(proxy, "app.test", other.port)).toEqual(forbidden);
    await proxy.stop();
  });

  test("a broad allow does not re-open the built-in classes; an explicit one does", async () => {
    const broad = await startPolicyProxy(["--allow", "0.0.0.0/0"]);
    await refusedWithoutConnecting(broad, "0.0.0.0", echo);
    expect(await attempt(broad, "127.0.0.1", echo.port)).toMatchObject(connected);
    await broad.stop();
    // 0.0.0.0 reaches the loopback listener: the re-opened class really connects.
    const explicit = await startPolicyProxy(["--allow", `0.0.0.0:${echo.port}`]);
    expect(await attempt(explicit, "0.0.0.0", echo.port)).toMatchObject(connected);
    await explicit.stop();
  });
});

describe("IPv6 loopback", () => {
  let v6: TCPSocketListener | undefined;
  let v6Port = 0;
  beforeAll(() => {
    try {
      v6 = Bun.listen({ hostname: "::1", port: 0, socket: { data() {} } });
      v6Port = v6.port;
    } catch {
      v6 = undefined;
    }
  });
  afterAll(() => v6?.stop(true));

  test("::1 by allow and deny rules, in any spelling", async () => {
    if (!v6) return;
    const allowOnly = await startPolicyProxy(["--allow", `[::1]:${v6Port}`]);
    expect(await attempt(allowOnly, "::1", v6Port)).toMatchObject(connected);
    expect(await attempt(allowOnly, "0:0:0:0:0:0:0:1", v6Port)).toMatchObject(connected);
    expect(await attempt(allowOnly, "127.0.0.1", v6Port)).toEqual(forbidden);
    await allowOnly.stop();
    const denied = await startPolicyProxy(["--deny", "::1"]);
    expect(await attempt(denied, "::1", v6Port)).toEqual(forbidden);
    expect(await attempt(denied, "0::1", v6Port)).toEqual(forbidden);
    expect(await attempt(denied, "127.0.0.1", echo.port)).toMatchObject(connected);
    await denied.stop();
  });
});

describe("bad rules are start-up errors naming the rule", () => {
  const cases: [string[], RegExp][] = [
    [["--allow", "10.0.0.1/8"], /^socket2web: --allow: invalid rule "10\.0\.0\.1\/8": .*host bits/],
    [["--deny", "127.1"], /^socket2web: --deny: invalid rule "127\.1"/],
    [["--allow", "db.internal:0"], /^socket2web: --allow: invalid rule "db\.internal:0": port/],
    [["--allow", "*.:80"], /^socket2web: --allow: invalid rule "\*\.:80"/],
    [
      ["--allow", "10.0.0.0/8", "--allow", "a:2-1"],
      /invalid rule "a:2-1": port range 2-1 is reversed/,
    ],
    [["--allow"], /^socket2web: --allow expects a rule, got no value/],
  ];
  test.each(cases)("%p", async (args, message) => {
    const proc = Bun.spawn([...proxyCommand(), "--port", "1", ...args], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, NO_COLOR: "1" },
    });
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split("\n")).toHaveLength(1);
  });
});

describe("start-up warning", () => {
  test("listening beyond loopback with no allow rule and no credential warns that the proxy is open", async () => {
    // 0.0.0.0 binds every interface, but the test only connects over loopback.
    const open = await startProxy(["--ip", "0.0.0.0"]);
    await open.waitForOutput("the proxy is open");
    await open.stop();
    const allowed = await startProxy(["--ip", "0.0.0.0", "--allow", "127.0.0.1"]);
    expect(allowed.output()).not.toContain("the proxy is open");
    await allowed.stop();
    const local = await startProxy([]);
    expect(local.output()).not.toContain("the proxy is open");
    await local.stop();
  });
});
