import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Blackhole, startBlackhole } from "../helpers/blackhole.ts";
import { runStartupError, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { upgradeAnswer } from "../helpers/upgrade-answer.ts";
import { openClient } from "../helpers/ws-client.ts";

let echo: TcpTarget;
let blackhole: Blackhole;

beforeAll(async () => {
  echo = startTcpTarget("echo");
  blackhole = await startBlackhole();
}, 20_000);

afterAll(async () => {
  echo?.stop();
  await blackhole?.stop();
});

const route = () => ["--route", `/echo=127.0.0.1:${echo.port}`];

describe("raw sessions obey the same limits as any session", () => {
  test.each([
    ["--max-connections 1", ["--max-connections", "1"], "server at capacity, try again later"],
    [
      "--max-connections-per-ip 1",
      ["--max-connections-per-ip", "1"],
      "too many connections from your address, try again later",
    ],
    [
      "--rate-limit 1",
      ["--rate-limit", "1", "--rate-limit-burst", "1"],
      "too many connection attempts from your address, try again later",
    ],
  ])(
    "%s: the second is closed with 1013",
    async (_name, limit, reason) => {
      const proxy = await startProxy([...route(), ...limit]);
      try {
        const first = await openClient(`${proxy.url}/echo`);
        first.send(new TextEncoder().encode("in"));
        expect(new TextDecoder().decode(await first.readBytes(2))).toBe("in");
        const second = await openClient(`${proxy.url}/echo`);
        expect(await second.closed).toEqual({ code: 1013, reason });
        first.close();
        await first.closed;
      } finally {
        await proxy.stop();
      }
    },
    20_000,
  );

  test("--idle-timeout closes a quiet raw session with 4001", async () => {
    const proxy = await startProxy([...route(), "--idle-timeout", "1"]);
    try {
      const client = await openClient(`${proxy.url}/echo`);
      expect(await client.closed).toEqual({ code: 4001, reason: "idle timeout" });
    } finally {
      await proxy.stop();
    }
  }, 20_000);

  test("a target that does not accept within --connect-timeout is 504 before the upgrade", async () => {
    const proxy = await startProxy([
      "--route",
      `/hole=127.0.0.1:${blackhole.port}`,
      "--connect-timeout",
      "1",
    ]);
    try {
      const answer = await upgradeAnswer(proxy.port, "/hole");
      expect(answer.status).toBe(504);
      expect(answer.body).toContain("did not accept within 1 s");
      await proxy.waitForOutput("(504)");
    } finally {
      await proxy.stop();
    }
  }, 20_000);
});

describe("raw sessions and the rest of the server's rules", () => {
  test("Origin rules apply as for any upgrade: 403", async () => {
    const proxy = await startProxy([...route(), "--allow-origin", "https://vnc.example"]);
    try {
      const refused = await upgradeAnswer(proxy.port, "/echo", { origin: "https://evil.example" });
      expect(refused.status).toBe(403);
      const allowed = await upgradeAnswer(proxy.port, "/echo", { origin: "https://vnc.example" });
      expect(allowed.status).toBe(101);
    } finally {
      await proxy.stop();
    }
  }, 20_000);

  test("refusals are counted by reason in /metrics", async () => {
    const dir = await mkdtemp(join(tmpdir(), "s2w-metrics-"));
    await writeFile(join(dir, "tokens"), "# none yet\n");
    const proxy = await startProxy([...route(), "--metrics", "--token-file", join(dir, "tokens")]);
    try {
      expect((await upgradeAnswer(proxy.port, "/?token=nobody")).status).toBe(404);
      const metrics = await (await fetch(`http://127.0.0.1:${proxy.port}/metrics`)).text();
      expect(metrics).toContain(
        'socket2web_refused_total{frontend="raw",reason="unknown_target"} 1',
      );
    } finally {
      await proxy.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 20_000);

  test.each([
    [["--token-file", "/nonexistent/tokens"], "--token-file: cannot read /nonexistent/tokens"],
    [["--route", "vnc=127.0.0.1:5900"], "--route: the path of"],
    [["--route", "/vnc=127.0.0.1"], '--route: "127.0.0.1" is not HOST:PORT'],
    [["--route", "/a=127.0.0.1:1", "--route", "/a=127.0.0.1:2"], "routed twice"],
  ])(
    "%p is a usage error (exit 2)",
    async (args, message) => {
      const run = await runStartupError(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(message);
    },
    20_000,
  );
});
