// The unmodified npm libcurl.js in headless Chromium, through the real server's Wisp and wsproxy
// forms (--wisp /wisp/).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { launchChromium } from "../helpers/browser.ts";
import { randomBytes, sha256 } from "../helpers/bytes.ts";
import { type RunningProxy, startProxy } from "../helpers/proxy.ts";

const LIBCURL = new URL("../../node_modules/libcurl.js/", import.meta.url).pathname;

const browser = await launchChromium({
  label: "libcurl.js tests",
  profilePrefix: "socket2web-libcurl-",
});

/** What libcurl.js fetches: a fixed body, and an echo that records what it was sent. */
const download = randomBytes(1024 * 1024 + 3);
const upload = randomBytes(300 * 1024 + 1);
const posted: string[] = [];
let web: ReturnType<typeof Bun.serve>;
let denied: ReturnType<typeof Bun.serve>;
let site: ReturnType<typeof Bun.serve>;
let proxy: RunningProxy;
let page: Page;

beforeAll(async () => {
  if (!browser) return;
  const routes = {
    "/download": () => new Response(download),
    "/echo": async (request: Request) => {
      const body = new Uint8Array(await request.arrayBuffer());
      posted.push(sha256(body));
      return new Response(body);
    },
  };
  web = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    routes,
    fetch: () => new Response("", { status: 404 }),
  });
  denied = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("reached") });
  proxy = await startProxy(["--wisp", "/wisp/", "--deny", `127.0.0.1:${denied.port}`]);
  site = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    routes: {
      "/": new Response(
        // libcurl.js declares a top-level const; expose it to evaluate() as a property.
        '<!doctype html><script src="/libcurl.js"></script><script>window.libcurl = libcurl;</script>',
        {
          headers: { "content-type": "text/html" },
        },
      ),
      "/libcurl.js": new Response(Bun.file(`${LIBCURL}libcurl.js`), {
        headers: { "content-type": "text/javascript" },
      }),
      "/libcurl.wasm": new Response(Bun.file(`${LIBCURL}libcurl.wasm`), {
        headers: { "content-type": "application/wasm" },
      }),
      "/upload": new Response(upload),
    },
    fetch: () => new Response("not found", { status: 404 }),
  });
  page = await browser.page();
  await page.goto(`http://127.0.0.1:${site.port}/`, { timeout: 10_000 });
  await page.evaluate(async (url) => {
    const { libcurl } = globalThis as unknown as {
      libcurl: { set_websocket(u: string): void; load_wasm(u: string): Promise<void> };
    };
    libcurl.set_websocket(url);
    await libcurl.load_wasm("/libcurl.wasm");
  }, `${proxy.url}/wisp/`);
}, 30_000);

afterAll(async () => {
  await browser?.close();
  site?.stop(true);
  web?.stop(true);
  denied?.stop(true);
  await proxy?.stop();
});

interface FetchResult {
  ok: boolean;
  status?: number;
  sha256?: string;
  length?: number;
  error?: string;
}

/** Runs libcurl.fetch in the page with the given transport; the body is hashed there. */
function curlFetch(
  url: string,
  transport: "wisp" | "wsproxy",
  method: "GET" | "POST" = "GET",
): Promise<FetchResult> {
  return page.evaluate(
    async ([target, mode, verb]) => {
      type Curl = {
        transport: string;
        fetch(u: string, init?: Record<string, unknown>): Promise<Response>;
        HTTPSession: new () => { fetch(u: string, i?: unknown): Promise<Response>; close(): void };
      };
      const { libcurl } = globalThis as unknown as { libcurl: Curl };
      libcurl.transport = mode;
      // A fresh session each time, so no connection is reused across transports.
      const session = new libcurl.HTTPSession();
      const hex = async (bytes: ArrayBuffer) =>
        Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)))
          .map((b) => b.toString(16).padStart(2, "0"))
          .join("");
      try {
        const init =
          verb === "POST"
            ? { method: "POST", body: new Uint8Array(await (await fetch("/upload")).arrayBuffer()) }
            : {};
        const response = await session.fetch(target, init);
        const body = await response.arrayBuffer();
        return {
          ok: true,
          status: response.status,
          sha256: await hex(body),
          length: body.byteLength,
        };
      } catch (error) {
        return { ok: false, error: String(error) };
      } finally {
        session.close();
      }
    },
    [url, transport, method] as const,
  );
}

describe.skipIf(!browser)("libcurl.js in headless Chromium, unmodified", () => {
  for (const transport of ["wisp", "wsproxy"] as const) {
    test(`${transport}: an HTTP GET through Socket2Web is byte-exact`, async () => {
      const result = await curlFetch(`http://127.0.0.1:${web.port}/download`, transport);
      expect(result).toEqual({
        ok: true,
        status: 200,
        sha256: sha256(download),
        length: download.byteLength,
      });
    }, 20_000);

    test(`${transport}: an HTTP POST through Socket2Web is byte-exact both ways`, async () => {
      const before = posted.length;
      const result = await curlFetch(`http://127.0.0.1:${web.port}/echo`, transport, "POST");
      expect(result).toMatchObject({ ok: true, status: 200, sha256: sha256(upload) });
      expect(posted.slice(before)).toEqual([sha256(upload)]);
    }, 20_000);

    test(`${transport}: a target the policy denies is a failed fetch`, async () => {
      const result = await curlFetch(`http://127.0.0.1:${denied.port}/`, transport);
      expect(result.ok).toBe(false);
      expect(result.error?.length ?? 0).toBeGreaterThan(0);
    }, 20_000);
  }

  test("the Wisp transport multiplexed its streams on one WebSocket; the denied one was refused", () => {
    const lines = [
      ...proxy.output().matchAll(/wisp (\d+) stream \d+ -> tcp 127\.0\.0\.1:(\d+).* close (\d+)/g),
    ];
    expect(new Set(lines.map((m) => m[1])).size).toBe(1);
    expect(lines.map((m) => [Number(m[2]), Number(m[3])])).toContainEqual([
      Number(denied.port),
      4403,
    ]);
  });
});
