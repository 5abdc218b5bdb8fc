import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TCPSocketListener } from "bun";
import type { PolicyInput, PolicyResults } from "../helpers/isolated/policy-outcomes.ts";
import { runIsolated } from "../helpers/isolated-network.ts";
import { attempt, attemptAndCount, type Outcome } from "../helpers/policy-attempt.ts";
import { type RunningProxy, runStartupError, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";

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

const forbidden: Outcome = { status: "error", error: "forbidden", code: 4403, reasonMatches: true };
const invalid: Outcome = {
  status: "error",
  error: "invalid_handshake",
  code: 4400,
  reasonMatches: true,
};
const connected = { status: "connected" };

/** Asserts a handshake was refused with `expected` and that the target never saw a connection. */
async function refusedWithoutConnecting(
  proxy: RunningProxy,
  target_ip: string,
  target: TcpTarget,
  expected: Outcome = forbidden,
) {
  expect(await attemptAndCount(proxy, target_ip, target)).toEqual({
    outcome: expected,
    connections: 0,
  });
}

/**
 * Handshakes naming addresses beyond loopback (or that a broken policy would dial beyond it) run
 * in a network namespace holding only `lo`: a regression fails the test without a packet leaving.
 * Loopback cases run there too, which shows the namespace itself works.
 */
function isolatedPolicy(args: string[], hosts: string[]) {
  let results: PolicyResults = {};
  beforeAll(async () => {
    const input: PolicyInput = { args, env: { SOCKET2WEB_TEST_HOSTS: TEST_HOSTS }, hosts };
    results = await runIsolated<PolicyResults>(
      new URL("../helpers/isolated/policy-outcomes.ts", import.meta.url),
      input,
    );
  }, 60_000);
  return (host: string) => {
    const result = results[host];
    if (!result) throw new Error(`no isolated result for ${host}`);
    return result;
  };
}

const UNSPECIFIED = ["0.0.0.0", "::", "::ffff:0.0.0.0", "0.1.2.3", "zero.test"];
const OFF_HOST = [
  "169.254.169.254",
  "::ffff:169.254.169.254",
  "::ffff:a9fe:a9fe",
  "64:ff9b::a9fe:a9fe",
  "224.0.0.1",
  "ff02::1",
  "255.255.255.255",
  "evil.test",
  "EVIL.test.",
  "mixed.test",
];
const LOOPBACK = [
  "127.0.0.1",
  "localhost",
  "localhost.",
  "LocalHost",
  "::ffff:127.0.0.1",
  "mapped.test",
];
const NUMERIC = [
  "127.1",
  "2130706433",
  "0177.0.0.1",
  "0x7f.0.0.1",
  "127.0.0.01",
  "::ffff:0177.0.0.1",
];

describe("no rules: the built-in denied classes only (in an isolated network namespace)", () => {
  const result = isolatedPolicy(
    [],
    [...UNSPECIFIED, ...OFF_HOST, ...LOOPBACK, ...NUMERIC, "nowhere.test"],
  );

  // Connecting to 0.0.0.0 or :: reaches this host's loopback listeners on Linux, so each of
  // these would reach the echo target if the policy let it through.
  test.each(UNSPECIFIED)("%s (unspecified) is forbidden and never connected", (host) => {
    expect(result(host)).toEqual({ outcome: forbidden, connections: 0 });
  });

  // A name with one denied address among allowed ones (mixed.test) is forbidden as a whole.
  test.each(OFF_HOST)("%s is forbidden with 4403 and never connected", (host) => {
    expect(result(host)).toEqual({ outcome: forbidden, connections: 0 });
  });

  test.each(LOOPBACK)("%s (loopback) is allowed by default", (host) => {
    expect(result(host)).toMatchObject({ outcome: connected, connections: 1 });
  });

  test.each(NUMERIC)(
    "numeric form %s is invalid_handshake and never resolved or connected",
    (host) => {
      expect(result(host)).toEqual({ outcome: invalid, connections: 0 });
    },
  );

  test("a name outside the test map fails as unresolvable, without DNS", () => {
    expect(result("nowhere.test")).toEqual({
      outcome: { status: "error", error: "connect_failed", code: 4502, reasonMatches: true },
      connections: 0,
    });
  });
});

describe("deny rules apply to every spelling of an address (in an isolated network namespace)", () => {
  const hosts = [
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
  ];
  const result = isolatedPolicy(["--deny", "127.0.0.0/8"], hosts);
  test.each(hosts)("%s is forbidden and never connected", (host) => {
    expect(result(host)).toEqual({ outcome: forbidden, connections: 0 });
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

// Whether this host has ::1, decided before the tests are declared so that a missing one shows
// as a skipped test rather than a silent pass.
const v6Listener = (() => {
  try {
    return Bun.listen({ hostname: "::1", port: 0, socket: { data() {} } });
  } catch {
    return undefined;
  }
})();
afterAll(() => v6Listener?.stop(true));

describe("IPv6 loopback", () => {
  test.skipIf(v6Listener === undefined)(
    "::1 by allow and deny rules, in any spelling (skipped when this host has no ::1)",
    async () => {
      const v6Port = (v6Listener as TCPSocketListener).port;
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
    },
  );
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
    const { stderr, code } = await runStartupError(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split("\n")).toHaveLength(1);
  });
});

describe("start-up warning (in an isolated network namespace)", () => {
  test("listening beyond loopback with no allow rule and no credential warns that the proxy is open", async () => {
    // 0.0.0.0 binds every interface: in the namespace that is loopback alone.
    const [open, allowed, local] = await runIsolated<string[]>(
      new URL("../helpers/isolated/startup-output.ts", import.meta.url),
      [["--ip", "0.0.0.0"], ["--ip", "0.0.0.0", "--allow", "127.0.0.1"], []],
    );
    // Each output is complete (the process exited): the negatives below cannot be early.
    for (const output of [open, allowed, local]) expect(output).toMatch(/listening on/);
    expect(open).toContain("the proxy is open");
    expect(allowed).not.toContain("the proxy is open");
    expect(local).not.toContain("the proxy is open");
  }, 60_000);
});
