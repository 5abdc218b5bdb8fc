import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { launchChromium } from "../helpers/browser.ts";
import { type RunningForward, startForward } from "../helpers/client-cli.ts";
import { curlPath, runCurl } from "../helpers/curl.ts";
import { useProxyAndEcho } from "../helpers/fixtures.ts";
import { testSshThroughSocks } from "../helpers/sshd.ts";
import { eventually } from "../helpers/streams.ts";
import {
  makeCertificate,
  removeTempDir,
  type TestCertificate,
  tempDir,
} from "../helpers/tls-cert.ts";

// 127.0.0.2 is loopback too: the server's policy refuses it, so one target fails while others pass.
// The server resolves only localhost, from a table (never DNS): Chromium asks the proxy for
// Google's hosts even with its background networking off, and those names must not be looked up.
const fixture = useProxyAndEcho(["--deny", "127.0.0.2"], {
  SOCKET2WEB_TEST_HOSTS: JSON.stringify({ localhost: ["127.0.0.1"] }),
});
const PAGE = "hello through socks\n";

let web: ReturnType<typeof Bun.serve>;
let secureWeb: ReturnType<typeof Bun.serve>;
let socks: RunningForward;
let dir: string;
let cert: TestCertificate;
/** A loopback port with nothing listening on it. */
let closedPort: number;

beforeAll(async () => {
  web = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(PAGE) });
  dir = tempDir();
  cert = await makeCertificate(dir, "socks-target");
  secureWeb = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: Bun.file(cert.certFile), key: Bun.file(cert.keyFile) },
    fetch: () => new Response("secure page\n"),
  });
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  closedPort = probe.port;
  probe.stop(true);
  socks = await startForward(["--server", fixture.proxy.url], "socks");
});

afterAll(async () => {
  await socks?.stop();
  web?.stop(true);
  secureWeb?.stop(true);
  removeTempDir(dir);
});

const curl = (...args: string[]) => runCurl(10, ...args);

describe.skipIf(curlPath === null)("socket2web socks with real programs", () => {
  testSshThroughSocks(() => socks.port);
  test("SOCKS5 with the name resolved by the server, SOCKS5 with an address, HTTP CONNECT and a plain HTTP proxy request", async () => {
    const proxy = `127.0.0.1:${socks.port}`;
    const runs = await Promise.all([
      curl("--socks5-hostname", proxy, `http://localhost:${web.port}/a`),
      curl("--socks5", proxy, `http://127.0.0.1:${web.port}/b`),
      curl("--proxytunnel", "-x", `http://${proxy}`, `http://127.0.0.1:${web.port}/c`),
      curl("-x", `http://${proxy}`, `http://127.0.0.1:${web.port}/d`),
    ]);
    for (const run of runs) {
      expect(run.stderr).toBe("");
      expect(run.body).toBe(PAGE);
    }
  }, 30_000);

  test("TLS to a loopback server, end to end through the tunnel", async () => {
    const run = await curl(
      "--cacert",
      cert.certFile,
      "--socks5-hostname",
      `127.0.0.1:${socks.port}`,
      `https://localhost:${secureWeb.port}/`,
    );
    expect(run.stderr).toBe("");
    expect(run.body).toBe("secure page\n");
  }, 30_000);

  test("the server's refusals in each protocol's own terms: policy 0x02/403, refused 0x05/502, unresolvable 0x04", async () => {
    const proxy = `127.0.0.1:${socks.port}`;
    const [denied, deniedHttp, refused, refusedHttp, ok] = await Promise.all([
      curl("--socks5", proxy, `http://127.0.0.2:${web.port}/`),
      curl("-p", "-x", `http://${proxy}`, "-w", "%{http_connect}", `http://127.0.0.2:${web.port}/`),
      curl("--socks5", proxy, `http://127.0.0.1:${closedPort}/`),
      curl(
        "-p",
        "-x",
        `http://${proxy}`,
        "-w",
        "%{http_connect}",
        `http://127.0.0.1:${closedPort}/`,
      ),
      curl("--socks5", proxy, `http://127.0.0.1:${web.port}/`),
    ]);
    // curl names the SOCKS5 reply code in parentheses.
    expect(denied.stderr).toMatch(/SOCKS5.*\(2\)/);
    expect(deniedHttp.body).toContain("403");
    expect(deniedHttp.stderr).toMatch(/403/);
    expect(refused.stderr).toMatch(/SOCKS5.*\(5\)/);
    expect(refusedHttp.stderr).toMatch(/502/);
    // A name the server cannot resolve is host unreachable.
    const unknown = await curl("--socks5-hostname", proxy, `http://nosuch.test:${web.port}/`);
    expect(unknown.stderr).toMatch(/SOCKS5.*\(4\)/);
    expect(ok.body).toBe(PAGE);
    // The plain form shows the server's reason in the body.
    const plain = await curl("-x", `http://${proxy}`, `http://127.0.0.2:${web.port}/`);
    expect(plain.body).toContain("forbidden");
  }, 30_000);

  test("headless Chromium loads a loopback page through socks5://, resolving no name itself", async () => {
    const browser = await launchChromium({
      label: "the socks browser test",
      profilePrefix: "socket2web-socks-chromium-",
      args: [
        `--proxy-server=socks5://127.0.0.1:${socks.port}`,
        // Chromium sends loopback directly unless told otherwise; and it may resolve nothing.
        "--proxy-bypass-list=<-loopback>",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
      ],
    });
    if (!browser) return;
    try {
      const page = await browser.page();
      const response = await page.goto(`http://localhost:${web.port}/from-chromium`);
      expect(response?.status()).toBe(200);
      expect((await page.textContent("body"))?.trim()).toBe(PAGE.trim());
      await socks.waitForLines(new RegExp(`→ localhost:${web.port}: closed`), 1, 10_000);
    } finally {
      await browser.close();
    }
  }, 30_000);

  test("--proxy-user: SOCKS5 user/password and HTTP Proxy-Authorization, refused without them", async () => {
    const guarded = await startForward(
      ["--server", fixture.proxy.url, "--proxy-user", "alice:s3cret"],
      "socks",
    );
    try {
      const at = `127.0.0.1:${guarded.port}`;
      const url = `http://127.0.0.1:${web.port}/`;
      const [socksOk, socksNone, httpOk, httpNone] = await Promise.all([
        curl("--proxy-user", "alice:s3cret", "--socks5", at, url),
        curl("--socks5", at, url),
        curl("-x", `http://alice:s3cret@${at}`, url),
        curl("-x", `http://${at}`, "-w", "%{http_code}", url),
      ]);
      expect(socksOk.body).toBe(PAGE);
      expect(httpOk.body).toBe(PAGE);
      expect(socksNone.exitCode).not.toBe(0);
      expect(httpNone.body).toEndWith("407");
    } finally {
      await guarded.stop();
    }
  }, 30_000);

  test("a UDP ASSOCIATE gets 0x07", async () => {
    const client = await rawClient(socks.port);
    client.socket.write(
      Uint8Array.of(0x05, 0x01, 0x00, 0x05, 0x03, 0x00, 0x01, 127, 0, 0, 1, 0, 53),
    );
    await eventually(client.closed, 5000, "the local connection closed");
    expect(client.replies.slice(0, 4)).toEqual([0x05, 0x00, 0x05, 0x07]);
  });

  test("a client that never completes its request is closed after --handshake-timeout; --max-connections bounds clients", async () => {
    const bounded = await startForward(
      ["--server", fixture.proxy.url, "--handshake-timeout", "0.3", "--max-connections", "1"],
      "socks",
    );
    try {
      const slow = await rawClient(bounded.port);
      // Its greeting is answered, so it holds the one place; its request never comes.
      slow.socket.write(Uint8Array.of(0x05, 0x01, 0x00));
      await eventually(() => slow.replies.length === 2, 5000, "the method reply");
      const extra = await rawClient(bounded.port);
      await eventually(extra.closed, 5000, "the connection over --max-connections closed");
      await eventually(slow.closed, 5000, "the slow client closed");
      await bounded.waitForLines(/no complete request within 300 ms/, 1, 5000);
      await bounded.waitForLines(/--max-connections 1 reached/, 1, 5000);
    } finally {
      await bounded.stop();
    }
  });
});

async function rawClient(port: number) {
  const replies: number[] = [];
  let closed = false;
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_socket, chunk) {
        replies.push(...chunk);
      },
      close: () => {
        closed = true;
      },
      error() {},
    },
  });
  return { socket, replies, closed: () => closed };
}
