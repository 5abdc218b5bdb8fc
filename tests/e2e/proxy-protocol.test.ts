// A PROXY protocol header before the client's bytes, read by real servers that parse it, unmodified
// (HAProxy with accept-proxy, nginx with listen … proxy_protocol): the address they log is the
// client's, through every front end, for v1 and v2.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { SignJWT } from "jose";
import { type RunningProxy, startProxy } from "../helpers/proxy.ts";
import {
  missingProxyProtocolServers,
  type PpServer,
  type RunningHaproxy,
  type RunningNginx,
  startHaproxy,
  startNginx,
} from "../helpers/proxy-protocol-servers.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { makeCertificate, removeTempDir, tempDir } from "../helpers/tls-cert.ts";
import { connectThrough, openClient } from "../helpers/ws-client.ts";
import { connectWisp, openStream } from "../wisp/wisp-client.ts";

const missing = missingProxyProtocolServers();
if (missing) console.log(`skipping the PROXY protocol tests against real servers: ${missing}`);

const SECRET = "proxy-protocol-ticket-key-of-32-bytes-or-more";
/** The target name clients ask for: v2 carries it as PP2_TYPE_AUTHORITY. */
const NAME = "web.test";
const HOSTS = { SOCKET2WEB_TEST_HOSTS: JSON.stringify({ [NAME]: ["127.0.0.1"] }) };

let dir: string;
let haproxy: RunningHaproxy;
let nginx: RunningNginx;
let echo: TcpTarget;
const proxies: Record<"v1" | "v2" | "ipv6" | "none" | "tickets" | "ruled", RunningProxy> =
  {} as never;
let requests = 0;

/** An HTTP request for a path of its own, so that each test finds its own log line. */
function request(): { path: string; bytes: Uint8Array } {
  const path = `/case-${++requests}`;
  const text = `GET ${path} HTTP/1.1\r\nHost: ${NAME}\r\nConnection: close\r\n\r\n`;
  return { path, bytes: new TextEncoder().encode(text) };
}

/** The log line of one request, with the client address, port and destination it names. */
async function logged(server: PpServer, path: string): Promise<string> {
  const escaped = path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  return server.waitForLog(new RegExp(`path=${escaped}( |$)`));
}

/** Own protocol: the handshake names the target; then the request goes as bytes. */
async function viaOwnProtocol(url: string, port: number): Promise<string> {
  const { client, status } = await connectThrough(url, {
    protocol: "tcp",
    target_ip: NAME,
    target_port: port,
  });
  expect(status.status).toBe("connected");
  const { path, bytes } = request();
  client.send(bytes);
  await client.closed;
  return path;
}

async function viaRoute(url: string): Promise<string> {
  const client = await openClient(url, "binary");
  const { path, bytes } = request();
  client.send(bytes);
  await client.closed;
  return path;
}

async function viaWisp(url: string, port: number): Promise<string> {
  const connection = await connectWisp(url);
  try {
    const stream = openStream(connection, NAME, port);
    const { path, bytes } = request();
    stream.stream.send(bytes);
    await stream.closed;
    return path;
  } finally {
    connection.close();
  }
}

describe.skipIf(missing !== undefined)("PROXY protocol to targets (HAProxy, nginx)", () => {
  beforeAll(async () => {
    dir = tempDir("s2w-proxy-protocol-");
    const certificate = await makeCertificate(dir, "haproxy");
    const pem = join(dir, "haproxy.pem");
    writeFileSync(pem, `${certificate.cert}\n${await Bun.file(certificate.keyFile).text()}`);
    [haproxy, nginx] = await Promise.all([startHaproxy(dir, pem), startNginx(dir)]);
    echo = startTcpTarget("echo");
    const routes = (version: string) => [
      "--route",
      `/haproxy=127.0.0.1:${haproxy.port}`,
      "--route",
      `/nginx=127.0.0.1:${nginx.port}`,
      "--route",
      `/echo-off=127.0.0.1:${echo.port} proxy-protocol=off`,
      "--proxy-protocol",
      version,
    ];
    const common = [
      ...["--wisp", "/wisp/", "--tls-target-insecure", "--allow-unix", dir],
      ...["--trust-proxy", "127.0.0.1/32"],
    ];
    const tokens = join(dir, "tokens.conf");
    writeFileSync(
      tokens,
      [
        `plain: 127.0.0.1:${echo.port}`,
        `pp1: 127.0.0.1:${haproxy.port} proxy-protocol=v1`,
        `pp2: 127.0.0.1:${nginx.port} proxy-protocol=v2`,
      ].join("\n"),
    );
    const access = join(dir, "access.toml");
    writeFileSync(access, '[[rule]]\nname = "pp"\nprincipals = ["*"]\nproxy_protocol = "v1"\n');
    const [v1, v2, ipv6, none, tickets, ruled] = await Promise.all([
      startProxy([...common, ...routes("v1")], HOSTS),
      startProxy([...common, ...routes("v2")], HOSTS),
      startProxy(
        [
          "--ip",
          "::1",
          ...["v1", "v2"].flatMap((version) => [
            "--route",
            `/haproxy-${version}=127.0.0.1:${haproxy.port} proxy-protocol=${version}`,
            "--route",
            `/nginx-${version}=127.0.0.1:${nginx.port} proxy-protocol=${version}`,
          ]),
        ],
        HOSTS,
      ),
      startProxy([...common, "--token-file", tokens], HOSTS),
      startProxy(["--ticket-secret", SECRET], HOSTS),
      startProxy([...common, "--access", access], HOSTS),
    ]);
    Object.assign(proxies, { v1, v2, ipv6, none, tickets, ruled });
    // Said at start-up: a target that does not expect the header would take it as data.
    await v2.waitForOutput(
      "PROXY protocol v2 header to every target, unless its route, token file entry or ticket says otherwise",
    );
  }, 30_000);

  afterAll(async () => {
    await Promise.all(Object.values(proxies).map((proxy) => proxy?.stop()));
    await Promise.all([haproxy?.stop(), nginx?.stop()]);
    echo?.stop();
    removeTempDir(dir);
  });

  for (const version of ["v1", "v2"] as const) {
    describe(`--proxy-protocol ${version}`, () => {
      for (const [name, server] of [
        ["haproxy", () => haproxy],
        ["nginx", () => nginx],
      ] as const) {
        test(`${name} logs the client's address: own protocol`, async () => {
          const proxy = proxies[version];
          const path = await viaOwnProtocol(proxy.url, server().port);
          const line = await logged(server(), path);
          expect(line).toContain("client=127.0.0.1:");
          expect(line).toContain(`dst=127.0.0.1:${server().port}`);
          expect(line).not.toContain("client=127.0.0.1:0 ");
          if (name === "haproxy") {
            // v2 names the target as the client asked for it, and the session as the proxy logs it.
            const id = /id=(\S+)/.exec(line)?.[1];
            if (version === "v2") {
              expect(line).toContain(`authority=${NAME}`);
              expect(id).toMatch(/^\d+$/);
              await proxy.waitForOutput(
                new RegExp(`session ${id} 127\\.0\\.0\\.1:\\d+ -> tcp ${NAME}:${server().port} `),
              );
            } else {
              expect(line).toContain("authority=- id=-");
            }
          }
        });

        test(`${name} logs the client's address: raw route`, async () => {
          const proxy = proxies[version];
          const path = await viaRoute(`${proxy.url}/${name}`);
          const line = await logged(server(), path);
          expect(line).toContain("client=127.0.0.1:");
          if (name === "haproxy" && version === "v2") {
            // The session id was taken before the session, with the target opened before the upgrade.
            const id = /id=(\d+)/.exec(line)?.[1];
            await proxy.waitForOutput(new RegExp(`session ${id} 127\\.0\\.0\\.1:\\d+ -> tcp `));
          }
        });

        test(`${name} logs the client's address: Wisp stream`, async () => {
          const proxy = proxies[version];
          const path = await viaWisp(`${proxy.url}/wisp/`, server().port);
          const line = await logged(server(), path);
          expect(line).toContain("client=127.0.0.1:");
          if (name === "haproxy" && version === "v2") expect(line).toContain(`authority=${NAME}`);
        });
      }

      test("tls: the header goes before the TLS handshake (HAProxy's ssl bind)", async () => {
        const { client, status } = await connectThrough(proxies[version].url, {
          protocol: "tls",
          target_ip: "127.0.0.1",
          target_port: haproxy.tlsPort,
        });
        expect(status.status).toBe("connected");
        const { path, bytes } = request();
        client.send(bytes);
        await client.closed;
        expect(await logged(haproxy, path)).toContain("client=127.0.0.1:");
      });

      test("unix: the client's address, the target a socket path (HAProxy's unix bind)", async () => {
        const { client, status } = await connectThrough(proxies[version].url, {
          protocol: "unix",
          target_path: haproxy.unixPath,
        });
        expect(status.status).toBe("connected");
        const { path, bytes } = request();
        client.send(bytes);
        await client.closed;
        const line = await logged(haproxy, path);
        expect(line).toContain("client=127.0.0.1:");
        expect(line).toContain("dst=0.0.0.0:0");
      });

      test("behind a trusted proxy: the address X-Forwarded-For names, port 0", async () => {
        const { client, status } = await connectThrough(
          proxies[version].url,
          { protocol: "tcp", target_ip: NAME, target_port: haproxy.port },
          { headers: { "X-Forwarded-For": "203.0.113.9" } },
        );
        expect(status.status).toBe("connected");
        const { path, bytes } = request();
        client.send(bytes);
        await client.closed;
        expect(await logged(haproxy, path)).toContain("client=203.0.113.9:0 ");
      });

      test("udp is refused, saying why", async () => {
        const { client, status } = await connectThrough(proxies[version].url, {
          protocol: "udp",
          target_ip: "127.0.0.1",
          target_port: 9,
        });
        expect(status).toMatchObject({ status: "error", error: "unsupported_protocol" });
        expect(String(status.reason)).toContain(
          "a PROXY protocol header is configured for this session, and udp targets cannot take one",
        );
        await client.closed;
      });

      test("a route with proxy-protocol=off sends nothing before the client's bytes", async () => {
        const client = await openClient(`${proxies[version].url}/echo-off`, "binary");
        client.send(new TextEncoder().encode("hello"));
        expect(new TextDecoder().decode(await client.readBytes(5))).toBe("hello");
        client.close();
      });
    });
  }

  describe("an IPv6 client, an IPv4 target: both written as IPv6, the client's address kept", () => {
    for (const version of ["v1", "v2"] as const) {
      for (const [name, server] of [
        ["haproxy", () => haproxy],
        ["nginx", () => nginx],
      ] as const) {
        test(`${name}, ${version}`, async () => {
          const url = `ws://[::1]:${proxies.ipv6.port}/${name}-${version}`;
          const path = await viaRoute(url);
          const line = await logged(server(), path);
          expect(line).toContain("client=::1:");
          expect(line).toMatch(
            new RegExp(`dst=(::ffff:127\\.0\\.0\\.1|::ffff:7f00:1):${server().port}`),
          );
        });
      }
    }
  });

  describe("without --proxy-protocol", () => {
    test("nothing is sent: the target gets the client's bytes only", async () => {
      const { client, status } = await connectThrough(proxies.none.url, {
        protocol: "tcp",
        target_ip: "127.0.0.1",
        target_port: echo.port,
      });
      expect(status.status).toBe("connected");
      client.send(new TextEncoder().encode("PING"));
      expect(new TextDecoder().decode(await client.readBytes(4))).toBe("PING");
      client.close();
    });

    test("a token file entry's proxy-protocol= option: v1 to HAProxy, v2 to nginx", async () => {
      const first = await viaRoute(`${proxies.none.url}/?token=pp1`);
      expect(await logged(haproxy, first)).toContain("authority=- id=-");
      expect(await logged(haproxy, first)).toContain("client=127.0.0.1:");
      const second = await viaRoute(`${proxies.none.url}/?token=pp2`);
      expect(await logged(nginx, second)).toContain("client=127.0.0.1:");
    });

    test("an access rule's proxy_protocol, for its principals' sessions on every front end", async () => {
      const own = await viaOwnProtocol(proxies.ruled.url, haproxy.port);
      expect(await logged(haproxy, own)).toContain("client=127.0.0.1:");
      const stream = await viaWisp(`${proxies.ruled.url}/wisp/`, haproxy.port);
      expect(await logged(haproxy, stream)).toContain("client=127.0.0.1:");
    });

    test("a ticket's proxy_protocol claim", async () => {
      const ticket = await new SignJWT({
        host: "127.0.0.1",
        port: haproxy.port,
        proxy_protocol: "v2",
      })
        .setProtectedHeader({ alg: "HS256" })
        .setExpirationTime(Math.floor(Date.now() / 1000) + 300)
        .sign(new TextEncoder().encode(SECRET));
      const path = await viaRoute(`${proxies.tickets.url}/?token=${ticket}`);
      const line = await logged(haproxy, path);
      expect(line).toContain("client=127.0.0.1:");
      expect(line).toContain("authority=127.0.0.1");
    });
  });
});
