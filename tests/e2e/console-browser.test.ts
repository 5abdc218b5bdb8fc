// The console page (--console) in a real headless Chromium, against the real proxy.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { launchChromium } from "../helpers/browser.ts";
import { collectOutput } from "../helpers/output.ts";
import { closedPort, freePort } from "../helpers/ports.ts";
import { type RunningProxy, startProxy } from "../helpers/proxy.ts";
import { concat, startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { followTcp, tsharkMissing } from "../helpers/tshark.ts";

/** Screenshots and exported files, kept for a person to look at (git ignores the folder). */
const ARTIFACTS = new URL("../artifacts/", import.meta.url).pathname;
mkdirSync(ARTIFACTS, { recursive: true });

/**
 * A name for the proxy that is neither an address nor localhost, so that its origin is not the
 * console's own by default. Chromium maps it to loopback itself: no name is looked up.
 */
const PROXY_NAME = "console.test";
const browser = await launchChromium({
  label: "console browser tests",
  profilePrefix: "socket2web-console-chromium-",
  context: { acceptDownloads: true, viewport: { width: 1200, height: 760 } },
  args: [`--host-resolver-rules=MAP ${PROXY_NAME} 127.0.0.1`],
});
let proxy: RunningProxy;
let echo: TcpTarget;
let page: Page;
const pageErrors: string[] = [];

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const HEX_BYTES = [0xde, 0xad, 0xbe, 0xef, 0x00, 0x01];

beforeAll(async () => {
  proxy = await startProxy(["--console"]);
  echo = startTcpTarget("echo");
  if (!browser) return;
  page = await browser.page();
  page.on("pageerror", (error) => pageErrors.push(error.message));
  await page.goto(`http://127.0.0.1:${proxy.port}/`, { timeout: 15_000 });
  await page.waitForSelector("body[data-ready=true]", { timeout: 15_000 });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  echo?.stop();
  await proxy?.stop();
});

/** Bytes the echo target has received on its latest connection, once there are `count`. */
async function targetReceived(count: number): Promise<Uint8Array> {
  for (let i = 0; i < 2000; i++) {
    const bytes = concat(echo.received.at(-1) ?? []);
    if (bytes.byteLength >= count) return bytes;
    await Bun.sleep(10);
  }
  throw new Error(`the target received fewer than ${count} bytes`);
}

const rows = (kind: string) =>
  page.locator(`section:not([hidden]) [data-testid=log-row][data-kind=${kind}]`);
const inTab = (testId: string) => page.locator(`section:not([hidden]) [data-testid=${testId}]`);

describe.skipIf(!browser)("the console page in headless Chromium", () => {
  test("offers the greeting's protocols with fields labelled by their descriptions", async () => {
    expect(await inTab("protocol").locator("option").allTextContents()).toContain("tcp");
    const labels = await page.locator("section:not([hidden]) .fields label").allTextContents();
    expect(labels.map((label) => label.trim())).toEqual(["IP Address", "Port for IP Address"]);
  });

  test("connects to an echo target, sends text and hex, and logs both directions with the right bytes", async () => {
    await inTab("field-target_ip").fill("127.0.0.1");
    await inTab("field-target_port").fill(String(echo.port));
    await inTab("connect").click();
    await page.waitForSelector("section:not([hidden]) [data-testid=state][data-state=connected]", {
      timeout: 10_000,
    });

    await inTab("line-ending").selectOption("crlf");
    await inTab("send-input").fill("hello console");
    await inTab("send").click();
    expect(decode(await targetReceived(15))).toBe("hello console\r\n");
    await rows("received").first().waitFor({ timeout: 15_000 });

    await inTab("send-mode").selectOption("hex");
    await inTab("send-input").fill("de ad be ef 00 01");
    await inTab("send-input").press("Enter");
    expect(Array.from(await targetReceived(21)).slice(15)).toEqual(HEX_BYTES);
    await rows("received").nth(1).waitFor({ timeout: 15_000 });

    expect(
      await rows("sent").evaluateAll((els) => els.map((el) => el.getAttribute("data-size"))),
    ).toEqual(["15", "6"]);
    expect(await rows("received").first().locator("pre").textContent()).toBe(
      "hello console\\r\\n\n",
    );
    await inTab("view-hex").check();
    expect(await rows("received").nth(1).locator("pre").textContent()).toContain(
      "de ad be ef 00 01",
    );
    await expect(inTab("bytes-sent").textContent()).resolves.toBe("↑ 21 B");
    await expect(inTab("bytes-received").textContent()).resolves.toBe("↓ 21 B");
    expect(await inTab("history").locator("option").allTextContents()).toContain(
      "hex de ad be ef 00 01",
    );
    await page.screenshot({ path: join(ARTIFACTS, "console.png") });
  }, 30_000);

  test("pause holds the log still while bytes keep flowing; resume shows them", async () => {
    await inTab("pause").click();
    const before = await rows("received").count();
    await inTab("send-mode").selectOption("text");
    await inTab("send-input").fill("while paused");
    await inTab("send").click();
    await targetReceived(21 + 12 + 2);
    await inTab("bytes-received").filter({ hasText: "↓ 35 B" }).waitFor({ timeout: 15_000 });
    expect(await rows("received").count()).toBe(before);
    await inTab("pause").click();
    expect(await rows("received").count()).toBe(before + 1);
  }, 15_000);

  test("exports the session as pcapng that tshark follows, and as JSON lines", async () => {
    const pcapng = page.waitForEvent("download");
    await inTab("export-pcapng").click();
    const pcapPath = join(ARTIFACTS, "console-session.pcapng");
    await (await pcapng).saveAs(pcapPath);
    const jsonl = page.waitForEvent("download");
    await inTab("export-jsonl").click();
    const jsonPath = join(ARTIFACTS, "console-session.jsonl");
    await (await jsonl).saveAs(jsonPath);

    const expected = concat([
      encode("hello console\r\n"),
      new Uint8Array(HEX_BYTES),
      encode("while paused\r\n"),
    ]);
    if (!tsharkMissing()) {
      const stream = await followTcp(pcapPath);
      expect(Array.from(stream.client)).toEqual(Array.from(expected));
      expect(Array.from(stream.server)).toEqual(Array.from(expected));
    }
    const lines = (await Bun.file(jsonPath).text())
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as { type: string; data?: string; protocol?: string });
    expect(lines[0]).toMatchObject({ type: "session", protocol: "tcp" });
    const sent = lines
      .filter((line) => line.type === "sent")
      .map((line) => Buffer.from(line.data ?? "", "base64"));
    expect(Array.from(Buffer.concat(sent))).toEqual(Array.from(expected));
  }, 20_000);

  test("closing shows the close code; a refused target in a second tab shows its error code and reason", async () => {
    await inTab("close-session").click();
    await page.waitForSelector("section:not([hidden]) [data-testid=state][data-state=closed]", {
      timeout: 5000,
    });
    expect(await inTab("status").textContent()).toContain("close code 1000");

    await page.locator("[data-testid=new-session]").click();
    expect(await page.locator("[data-testid=tab]").count()).toBe(2);
    await inTab("field-target_ip").fill("127.0.0.1");
    await inTab("field-target_port").fill(String(await closedPort()));
    await inTab("connect").click();
    await page.waitForSelector("section:not([hidden]) [data-testid=state][data-state=closed]", {
      timeout: 10_000,
    });
    const status = await inTab("status").textContent();
    expect(status).toContain("error connect_failed");
    expect(status).toContain("close code 4502");
    expect(await rows("error").first().textContent()).toContain("connect_failed");
    await page.screenshot({ path: join(ARTIFACTS, "console-refused.png") });
    expect(pageErrors).toEqual([]);
  }, 20_000);

  test("a failed tab, and a closed one, connect again with Reconnect", async () => {
    // The second tab failed (connect_failed): fix the port and reconnect.
    expect(await inTab("connect").textContent()).toBe("Reconnect");
    await inTab("field-target_port").fill(String(echo.port));
    await inTab("connect").click();
    await page.waitForSelector("section:not([hidden]) [data-testid=state][data-state=connected]", {
      timeout: 10_000,
    });
    expect(await rows("error").count()).toBe(0);
    await inTab("close-session").click();
    await page.waitForSelector("section:not([hidden]) [data-testid=state][data-state=closed]", {
      timeout: 5000,
    });
    await inTab("connect").click();
    await page.waitForSelector("section:not([hidden]) [data-testid=state][data-state=connected]", {
      timeout: 10_000,
    });
    await inTab("close-session").click();
    expect(pageErrors).toEqual([]);
  }, 20_000);
});

describe.skipIf(!browser)("the console under --allow-origin", () => {
  let guarded: RunningProxy;
  beforeAll(async () => {
    guarded = await startProxy(["--console", "--allow-origin", "https://app.example.com"]);
  });
  afterAll(() => guarded?.stop());

  test("its own page (by address) is allowed; PING and Enter send a whole line by default", async () => {
    await page.goto(`http://127.0.0.1:${guarded.port}/`, { timeout: 15_000 });
    await page.waitForSelector("body[data-ready]", { timeout: 15_000 });
    expect(await page.locator("[data-testid=notice]").textContent()).toContain("offers: tcp");
    await inTab("field-target_ip").fill("127.0.0.1");
    await inTab("field-target_port").fill(String(echo.port));
    await inTab("connect").click();
    await page.waitForSelector("section:not([hidden]) [data-testid=state][data-state=connected]", {
      timeout: 10_000,
    });
    await inTab("send-input").fill("PING");
    await inTab("send-input").press("Enter");
    expect(decode(await targetReceived(6))).toBe("PING\r\n");
    await inTab("send-mode").selectOption("hex");
    expect(await inTab("line-ending").isDisabled()).toBe(true);
  }, 30_000);

  test("reached by a name it does not list, the page says why the proxy refuses it, and can try again", async () => {
    const origin = `http://${PROXY_NAME}:${guarded.port}`;
    await page.goto(`${origin}/`, { timeout: 15_000 });
    await page.waitForSelector("body[data-ready=failed]", { timeout: 15_000 });
    const notice = await page.locator("[data-testid=notice]").textContent();
    expect(notice).toContain(`origin ${origin} is not allowed`);
    expect(notice).toContain("--allow-origin");
    await page.screenshot({ path: join(ARTIFACTS, "console-origin-refused.png") });
    await page.locator("[data-testid=retry]").click();
    await page.waitForSelector("body[data-ready=failed] [data-testid=retry]:not([hidden])", {
      timeout: 15_000,
    });
    expect(pageErrors).toEqual([]);
  }, 30_000);
});

describe("serving the page", () => {
  test("GET / and its assets carry a strict content security policy; an upgrade on / is still a session", async () => {
    const response = await fetch(`http://127.0.0.1:${proxy.port}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    expect(response.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(await response.text()).toContain('<script type="module" src="/console/app.js">');
    const script = await fetch(`http://127.0.0.1:${proxy.port}/console/app.js`);
    expect(script.status).toBe(200);
    expect(await script.text()).toContain("Socket2Web console");
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/`);
    const greeting = await new Promise<string>((resolve, reject) => {
      ws.onmessage = (event) => resolve(String(event.data));
      ws.onerror = () => reject(new Error("no upgrade on / with --console"));
    });
    ws.close();
    expect(JSON.parse(greeting)).toHaveProperty(["supported protocols", "tcp"]);
  });

  test("POST /console/admission says whether this origin's upgrade would be refused, and why", async () => {
    const guarded = await startProxy(["--console", "--allow-origin", "https://app.example.com"]);
    const ask = async (origin: string) =>
      (await (
        await fetch(`http://127.0.0.1:${guarded.port}/console/admission`, {
          method: "POST",
          headers: { origin },
        })
      ).json()) as { refused: string | null };
    try {
      expect(await ask("https://app.example.com")).toEqual({ refused: null });
      expect(await ask(`http://127.0.0.1:${guarded.port}`)).toEqual({ refused: null });
      expect((await ask("https://evil.example")).refused).toBe(
        "origin https://evil.example is not allowed: list this page's origin with --allow-origin",
      );
      // The upgrade itself agrees: the page's own origin by address is let through.
      const own = new WebSocket(`ws://127.0.0.1:${guarded.port}/`, {
        headers: { origin: `http://127.0.0.1:${guarded.port}` },
      } as unknown as string[]);
      const greeting = await new Promise<string>((resolve, reject) => {
        own.onmessage = (event) => resolve(String(event.data));
        own.onclose = (event) => reject(new Error(`closed ${event.code}`));
      });
      own.close();
      expect(JSON.parse(greeting)).toHaveProperty(["supported protocols"]);
    } finally {
      await guarded.stop();
    }
  });

  test("without --console, GET / is 426 as before", async () => {
    const plain = await startProxy();
    try {
      const response = await fetch(`http://127.0.0.1:${plain.port}/`);
      expect(response.status).toBe(426);
      expect((await fetch(`http://127.0.0.1:${plain.port}/console/app.js`)).status).toBe(426);
    } finally {
      await plain.stop();
    }
  });

  const binary = process.env.SOCKET2WEB_BIN;
  test.skipIf(!binary)(
    "the compiled binary, copied alone into an empty folder, serves the page",
    async () => {
      const folder = mkdtempSync(join(tmpdir(), "socket2web-alone-"));
      const copy = join(folder, "socket2web");
      copyFileSync(binary as string, copy);
      chmodSync(copy, 0o755);
      const port = await freePort();
      const proc = Bun.spawn([copy, "--ip", "127.0.0.1", "--port", String(port), "--console"], {
        cwd: folder,
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
        // Nothing from the checkout: no source path, no bun on PATH.
        env: { PATH: "/usr/bin:/bin", HOME: folder, NO_COLOR: "1" },
      });
      const output = collectOutput(proc);
      try {
        await output.waitFor("listening on");
        expect(readdirSync(folder)).toEqual(["socket2web"]);
        const page = await fetch(`http://127.0.0.1:${port}/`);
        expect(page.status).toBe(200);
        const script = await fetch(`http://127.0.0.1:${port}/console/app.js`);
        expect(script.status).toBe(200);
        expect(await script.text()).toContain("Socket2Web console");
        const style = await fetch(`http://127.0.0.1:${port}/console/app.css`);
        expect(style.status).toBe(200);
      } finally {
        proc.kill();
        await proc.exited;
        rmSync(folder, { recursive: true, force: true });
      }
    },
    20_000,
  );
});
