import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type RunningProxy, startProxy } from "../helpers/proxy.ts";
import { upgradeStatus } from "../helpers/upgrade-answer.ts";
import { openClient } from "../helpers/ws-client.ts";

describe("--allow-origin", () => {
  let proxy: RunningProxy;
  beforeAll(async () => {
    proxy = await startProxy([
      "--allow-origin",
      "https://app.example.com",
      "--allow-origin",
      "https://*.example.org",
      "--allow-origin",
      "http://localhost:3000",
    ]);
  });
  afterAll(() => proxy.stop());

  test.each([
    ["https://app.example.com", 101],
    ["https://APP.example.com", 101],
    ["https://app.example.com:443", 101],
    ["https://a.example.org", 101],
    ["https://deep.a.example.org", 101],
    ["http://localhost:3000", 101],
    ["https://example.org", 403],
    ["https://evil-example.org", 403],
    ["http://a.example.org", 403],
    ["https://app.example.com.evil.test", 403],
    ["http://app.example.com", 403],
    ["https://app.example.com:8443", 403],
    ["http://localhost:3001", 403],
    ["null", 403],
    ["not a url", 403],
  ])("Origin %s -> %d", async (origin, status) => {
    expect(await upgradeStatus(proxy.port, { Origin: origin })).toBe(status);
  });

  test("no Origin header is allowed (non-browser clients send none)", async () => {
    expect(await upgradeStatus(proxy.port)).toBe(101);
  });

  test("an allowed page gets the greeting; a refused one never opens", async () => {
    const client = await openClient(proxy.url, undefined, {
      headers: { Origin: "https://a.example.org" },
    });
    expect(Object.keys(await client.nextJson())).toContain("supported protocols");
    client.close();
    await expect(
      openClient(proxy.url, undefined, { headers: { Origin: "https://evil.test" } }),
    ).rejects.toThrow(/failed/);
  });
});

describe("--require-origin", () => {
  test("refuses an upgrade without Origin with 403, and still checks the list", async () => {
    const proxy = await startProxy([
      "--require-origin",
      "--allow-origin",
      "https://app.example.com",
    ]);
    expect(await upgradeStatus(proxy.port)).toBe(403);
    expect(await upgradeStatus(proxy.port, { Origin: "https://app.example.com" })).toBe(101);
    expect(await upgradeStatus(proxy.port, { Origin: "https://other.example.com" })).toBe(403);
    await proxy.stop();
  });

  test("alone, it requires some Origin but allows any", async () => {
    const proxy = await startProxy(["--require-origin"]);
    expect(await upgradeStatus(proxy.port)).toBe(403);
    expect(await upgradeStatus(proxy.port, { Origin: "https://anything.test" })).toBe(101);
    await proxy.stop();
  });
});

test("a bad origin pattern is a start-up error naming it", async () => {
  const { runStartupError } = await import("../helpers/proxy.ts");
  const { stderr, code } = await runStartupError([
    "--allow-origin",
    "https://app.example.com/path",
  ]);
  expect(code).toBe(2);
  expect(stderr.trim()).toMatch(
    /^socket2web: --allow-origin: invalid origin "https:\/\/app\.example\.com\/path": /,
  );
  expect(stderr.trim().split("\n")).toHaveLength(1);
});
