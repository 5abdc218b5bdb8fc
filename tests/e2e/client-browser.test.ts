import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { launchChromium } from "../helpers/browser.ts";
import { sha256 } from "../helpers/bytes.ts";
import { closedPort } from "../helpers/ports.ts";
import { type RunningProxy, startProxy } from "../helpers/proxy.ts";
import { concat, startTcpTarget, type TcpTarget } from "../helpers/targets.ts";

const browser = await launchChromium({
  label: "browser tests",
  profilePrefix: "socket2web-chromium-",
});

let proxy: RunningProxy;
let echo: TcpTarget;
let site: ReturnType<typeof Bun.serve>;
let page: Page;
let bundle: string;

beforeAll(async () => {
  if (!browser) return;
  const built = await Bun.build({
    entrypoints: [new URL("./client-browser.page.ts", import.meta.url).pathname],
    target: "browser",
    format: "esm",
  });
  if (!built.success) throw new AggregateError(built.logs, "page bundle failed");
  bundle = await (built.outputs[0] as Blob).text();
  site = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    routes: {
      "/": new Response('<!doctype html><script type="module" src="/page.js"></script>', {
        headers: { "content-type": "text/html" },
      }),
      "/page.js": new Response(bundle, { headers: { "content-type": "text/javascript" } }),
    },
    fetch: () => new Response("not found", { status: 404 }),
  });
  proxy = await startProxy();
  echo = startTcpTarget("echo");
  page = await browser.page();
  await page.goto(`http://127.0.0.1:${site.port}/`, { timeout: 10_000 });
  // Runs in the page; the project compiles without the DOM library, hence the cast.
  await page.waitForFunction(
    () => (globalThis as unknown as { document: { title: string } }).document.title === "ready",
    undefined,
    { timeout: 10_000 },
  );
}, 30_000);

afterAll(async () => {
  await browser?.close();
  site?.stop(true);
  echo?.stop();
  await proxy?.stop();
});

describe.skipIf(!browser)("client library in headless Chromium", () => {
  test("the bundle uses no Node-only module", () => {
    expect(bundle).not.toMatch(/\bfrom\s*["']node:|require\(["']node:/);
  });

  test("sends 1 MiB through the proxy to an echo target and gets it back intact", async () => {
    const size = 1024 * 1024;
    const result = await page.evaluate(
      ([url, port, bytes]) =>
        (
          globalThis as unknown as {
            socket2web: { echo(u: string, p: number, s: number): Promise<unknown> };
          }
        ).socket2web.echo(url, port, bytes),
      [proxy.url, echo.port, size] as const,
    );
    const { sent, received, length, protocols, status, closeCode } = result as {
      sent: string;
      received: string;
      length: number;
      protocols: Record<string, unknown>;
      status: Record<string, unknown>;
      closeCode: number;
    };
    expect(length).toBe(size);
    expect(received).toBe(sent);
    // What the target got is what the page sent.
    expect(sha256(concat(echo.received.at(-1) ?? []))).toBe(sent);
    // The library's URL form: this server answers with the status first, without a greeting.
    expect(protocols).toEqual({});
    expect(status).toMatchObject({ status: "connected", target_port: echo.port });
    expect(closeCode).toBe(1000);
  }, 30_000);

  const failure = (ip: string, port: number) =>
    page.evaluate(
      ([url, targetIp, targetPort]) =>
        (
          globalThis as unknown as {
            socket2web: { failure(u: string, i: string, p: number): Promise<unknown> };
          }
        ).socket2web.failure(url, targetIp, targetPort),
      [proxy.url, ip, port] as const,
    ) as Promise<{
      typed: boolean;
      name: string;
      code?: string;
      closeCode?: number;
      reason: string;
    }>;

  test("reports connect_failed as a typed error", async () => {
    const result = await failure("127.0.0.1", await closedPort());
    expect(result).toMatchObject({
      typed: true,
      name: "Socket2WebError",
      code: "connect_failed",
      closeCode: 4502,
    });
    expect(result.reason.length).toBeGreaterThan(0);
  }, 30_000);

  // 0.0.0.0 (unspecified) is denied by the built-in policy, with no rules configured.
  test("reports forbidden as a typed error", async () => {
    const result = await failure("0.0.0.0", 80);
    expect(result).toMatchObject({
      typed: true,
      name: "Socket2WebError",
      code: "forbidden",
      closeCode: 4403,
    });
  });
});
