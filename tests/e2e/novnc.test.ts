import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, normalize } from "node:path";
import type { Page } from "playwright-core";
import { type HeadlessChromium, launchChromium } from "../helpers/browser.ts";
import { type RunningProxy, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { startVncServer, type VncServer } from "../helpers/vnc-server.ts";

/** Debian's novnc package: the real client, served as it is installed. */
const NOVNC = "/usr/share/novnc";

const scratch = mkdtempSync(join(tmpdir(), "socket2web-novnc-"));
const tokens = join(scratch, "tokens.conf");

async function launch(): Promise<HeadlessChromium | undefined> {
  if (!(await Bun.file(`${NOVNC}/vnc_lite.html`).exists())) {
    console.warn("SKIPPING noVNC tests: noVNC is not installed; run tests/setup/install-vnc.sh");
    return undefined;
  }
  return launchChromium({ label: "noVNC tests", profilePrefix: "socket2web-novnc-chromium-" });
}

const browser = await launch();

let vnc: VncServer;
let denied: TcpTarget;
let proxy: RunningProxy;
let site: ReturnType<typeof Bun.serve>;
let page: Page;

beforeAll(async () => {
  if (!browser) return;
  [vnc, denied] = await Promise.all([startVncServer(), startTcpTarget("echo")]);
  writeFileSync(tokens, `desktop: 127.0.0.1:${vnc.port}\nforbidden: 127.0.0.1:${denied.port}\n`);
  proxy = await startProxy([
    "--token-file",
    tokens,
    "--route",
    `/vnc=127.0.0.1:${vnc.port}`,
    "--deny",
    `127.0.0.1:${denied.port}`,
  ]);
  // noVNC's own files, unmodified, from a loopback web server.
  site = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const path = normalize(decodeURIComponent(new URL(request.url).pathname));
      const file = Bun.file(`${NOVNC}${path}`);
      if (path.includes("..") || !(await file.exists())) return new Response("", { status: 404 });
      return new Response(file);
    },
  });
  page = await browser.page();
}, 30_000);

afterAll(async () => {
  await browser?.close();
  site?.stop(true);
  await proxy?.stop();
  denied?.stop();
  await vnc?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** Opens noVNC's vnc_lite.html pointed at the proxy with `path` and waits for its status line. */
async function openNoVnc(path: string, outcome: RegExp): Promise<string> {
  const query = new URLSearchParams({ host: "127.0.0.1", port: String(proxy.port), path });
  await page.goto(`http://127.0.0.1:${site.port}/vnc_lite.html?${query}`, { timeout: 10_000 });
  const status = page.locator("#status");
  await status.filter({ hasText: outcome }).waitFor({ timeout: 10_000 });
  return (await status.textContent()) ?? "";
}

/** Waits until noVNC's canvas holds the remote screen: more than one colour (X's stipple). */
async function canvasColours(): Promise<number> {
  const handle = await page.waitForFunction(
    () => {
      const doc = (globalThis as unknown as { document: { querySelector(s: string): unknown } })
        .document;
      const canvas = doc.querySelector("#screen canvas") as {
        width: number;
        height: number;
        getContext(kind: string): {
          getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
        };
      } | null;
      if (!canvas || canvas.width === 0) return 0;
      const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
      const colours = new Set<number>();
      for (let i = 0; i < data.length; i += 4) {
        colours.add(((data[i] ?? 0) << 16) | ((data[i + 1] ?? 0) << 8) | (data[i + 2] ?? 0));
        if (colours.size > 1) return colours.size;
      }
      return 0;
    },
    undefined,
    { timeout: 10_000 },
  );
  return (await handle.jsonValue()) as number;
}

describe.skipIf(!browser)("the real noVNC client through socket2web to x11vnc", () => {
  test("with ?token= and a token file: connects and shows the remote screen", async () => {
    expect(await openNoVnc("websockify?token=desktop", /^Connected to /)).toMatch(/^Connected/);
    expect(await canvasColours()).toBeGreaterThan(1);
  }, 20_000);

  test("with --route: connects and shows the remote screen", async () => {
    expect(await openNoVnc("vnc", /^Connected to /)).toMatch(/^Connected/);
    expect(await canvasColours()).toBeGreaterThan(1);
  }, 20_000);

  test("a target the policy denies: noVNC reports the failure, the proxy logs 403 and why", async () => {
    await openNoVnc("websockify?token=forbidden", /went wrong/);
    await proxy.waitForOutput(`(403): 127.0.0.1:${denied.port}`);
  }, 20_000);

  test("an unknown token: noVNC reports the failure, the proxy logs 404", async () => {
    await openNoVnc("websockify?token=nobody", /went wrong/);
    await proxy.waitForOutput("(404): unknown token");
  }, 20_000);
});
