import { describe, expect, test } from "bun:test";
import { useProxyAndEcho } from "../helpers/fixtures.ts";
import { closedPort } from "../helpers/ports.ts";
import { connectThrough, openClient } from "../helpers/ws-client.ts";

const fixture = useProxyAndEcho(["--timeout", "1", "--connect-timeout", "1"]);

describe("greeting", () => {
  test("lists every enabled adapter with its described fields, as the first text frame", async () => {
    const client = await openClient(fixture.proxy.url);
    const greeting = await client.next();
    expect(typeof greeting).toBe("string");
    const parsed = JSON.parse(greeting as string);
    const protocols = parsed["supported protocols"];
    expect(protocols.tcp).toEqual({ target_ip: "IP Address", target_port: "Port for IP Address" });
    // unix is off without --allow-unix, so it is not offered.
    expect(Object.keys(protocols)).toEqual(["tcp", "tls", "udp"]);
    expect(parsed.server).toMatch(/^socket2web\/\d+\.\d+\.\d+/);
    client.close();
  });
});

describe("successful handshake", () => {
  test("status repeats protocol, target_ip and target_port as sent", async () => {
    const handshake = {
      protocol: "tcp",
      target_ip: "127.0.0.1",
      target_port: fixture.echo.port,
      extra: "ignored",
    };
    const { client, status } = await connectThrough(fixture.proxy.url, handshake);
    expect(status).toEqual({
      status: "connected",
      protocol: "tcp",
      target_ip: "127.0.0.1",
      target_port: fixture.echo.port,
    });
    client.close();
  });

  test("localhost is resolved by the server", async () => {
    const { client, status } = await connectThrough(fixture.proxy.url, {
      protocol: "tcp",
      target_ip: "localhost",
      target_port: fixture.echo.port,
    });
    expect(status.status).toBe("connected");
    client.send(new Uint8Array([1, 2, 3]));
    expect(await client.readBytes(3)).toEqual(new Uint8Array([1, 2, 3]));
    client.close();
  });

  test("an IPv4-mapped IPv6 literal reaches the IPv4 target", async () => {
    const { client, status } = await connectThrough(fixture.proxy.url, {
      protocol: "tcp",
      target_ip: "::ffff:127.0.0.1",
      target_port: fixture.echo.port,
    });
    expect(status).toMatchObject({ status: "connected", target_ip: "::ffff:127.0.0.1" });
    client.close();
  });
});

const port = () => fixture.echo.port;
const invalid: [string, () => string | Uint8Array][] = [
  ["not JSON", () => "hello"],
  ["a JSON array", () => "[1,2]"],
  ["a JSON string", () => '"tcp"'],
  ["JSON null", () => "null"],
  ["missing protocol", () => JSON.stringify({ target_ip: "127.0.0.1", target_port: port() })],
  [
    "non-string protocol",
    () => JSON.stringify({ protocol: 7, target_ip: "127.0.0.1", target_port: port() }),
  ],
  ["missing target_ip", () => JSON.stringify({ protocol: "tcp", target_port: port() })],
  [
    "numeric target_ip",
    () => JSON.stringify({ protocol: "tcp", target_ip: 2130706433, target_port: port() }),
  ],
  [
    "out-of-range octet",
    () => JSON.stringify({ protocol: "tcp", target_ip: "999.1.1.1", target_port: port() }),
  ],
  [
    "short IPv4 form",
    () => JSON.stringify({ protocol: "tcp", target_ip: "127.1", target_port: port() }),
  ],
  [
    "octal IPv4 form",
    () => JSON.stringify({ protocol: "tcp", target_ip: "0177.0.0.1", target_port: port() }),
  ],
  [
    "integer IPv4 form",
    () => JSON.stringify({ protocol: "tcp", target_ip: "2130706433", target_port: port() }),
  ],
  [
    "bracketed IPv6",
    () => JSON.stringify({ protocol: "tcp", target_ip: "[::1]", target_port: port() }),
  ],
  [
    "IPv6 with zone",
    () => JSON.stringify({ protocol: "tcp", target_ip: "fe80::1%lo", target_port: port() }),
  ],
  [
    "bad IPv6",
    () => JSON.stringify({ protocol: "tcp", target_ip: "1::2::3", target_port: port() }),
  ],
  [
    "invalid host name",
    () => JSON.stringify({ protocol: "tcp", target_ip: "bad_host!", target_port: port() }),
  ],
  [
    "empty target_ip",
    () => JSON.stringify({ protocol: "tcp", target_ip: "", target_port: port() }),
  ],
  [
    "string port",
    () => JSON.stringify({ protocol: "tcp", target_ip: "127.0.0.1", target_port: String(port()) }),
  ],
  [
    "fractional port",
    () => JSON.stringify({ protocol: "tcp", target_ip: "127.0.0.1", target_port: 80.5 }),
  ],
  ["port 0", () => JSON.stringify({ protocol: "tcp", target_ip: "127.0.0.1", target_port: 0 })],
  [
    "port 65536",
    () => JSON.stringify({ protocol: "tcp", target_ip: "127.0.0.1", target_port: 65536 }),
  ],
  [
    "negative port",
    () => JSON.stringify({ protocol: "tcp", target_ip: "127.0.0.1", target_port: -1 }),
  ],
  ["missing port", () => JSON.stringify({ protocol: "tcp", target_ip: "127.0.0.1" })],
  [
    "non-string token",
    () =>
      JSON.stringify({ protocol: "tcp", target_ip: "127.0.0.1", target_port: port(), token: 1 }),
  ],
  ["a binary frame", () => new TextEncoder().encode(JSON.stringify({ protocol: "tcp" }))],
  [
    "8193 bytes",
    () => {
      const base = JSON.stringify({
        protocol: "tcp",
        target_ip: "127.0.0.1",
        target_port: port(),
        pad: "",
      });
      return base.replace('"pad":""', `"pad":"${"x".repeat(8193 - base.length)}"`);
    },
  ],
];

describe("invalid handshakes get invalid_handshake and close 4400", () => {
  test.each(invalid)("%s", async (_name, make) => {
    const client = await openClient(fixture.proxy.url);
    await client.nextJson();
    const message = make();
    if (typeof message === "string" && message.includes('"pad"'))
      expect(Buffer.byteLength(message)).toBe(8193);
    client.send(message);
    const status = await client.nextJson();
    expect(status.status).toBe("error");
    expect(status.error).toBe("invalid_handshake");
    expect(typeof status.reason).toBe("string");
    expect(await client.closed).toEqual({ code: 4400, reason: "invalid_handshake" });
  });

  test("a handshake of exactly 8192 bytes is not rejected for its size", async () => {
    const client = await openClient(fixture.proxy.url);
    await client.nextJson();
    const base = JSON.stringify({
      protocol: "tcp",
      target_ip: "127.0.0.1",
      target_port: fixture.echo.port,
      pad: "",
    });
    const room = 8192 - base.length;
    const message = base.replace(
      '"pad":""',
      `"pad":"${"é".repeat(Math.floor(room / 2))}${"x".repeat(room % 2)}"`,
    );
    expect(Buffer.byteLength(message)).toBe(8192);
    client.send(message);
    expect((await client.nextJson()).status).toBe("connected");
    client.close();
  });
});

describe("failure statuses", () => {
  test.each([["TCP"], ["unix"], [""]])(
    "protocol %p gets unsupported_protocol, 4400",
    async (protocol) => {
      const { client, status } = await connectThrough(fixture.proxy.url, {
        protocol,
        target_ip: "127.0.0.1",
        target_port: fixture.echo.port,
      });
      expect(status).toMatchObject({ status: "error", error: "unsupported_protocol" });
      expect(await client.closed).toEqual({ code: 4400, reason: "unsupported_protocol" });
    },
  );

  test("a refused target gets connect_failed, 4502", async () => {
    const refused = await closedPort();
    const { client, status } = await connectThrough(fixture.proxy.url, {
      protocol: "tcp",
      target_ip: "127.0.0.1",
      target_port: refused,
    });
    expect(status).toMatchObject({ status: "error", error: "connect_failed" });
    expect(status.reason).toContain("ECONNREFUSED");
    expect(status.reason).toContain(`127.0.0.1:${refused}`);
    expect(await client.closed).toEqual({ code: 4502, reason: "connect_failed" });
  });

  test("no handshake within --timeout gets handshake_timeout, 4408", async () => {
    const client = await openClient(fixture.proxy.url);
    await client.nextJson();
    const started = performance.now();
    const status = await client.nextJson(3000);
    expect(status).toMatchObject({ status: "error", error: "handshake_timeout" });
    expect(await client.closed).toEqual({ code: 4408, reason: "handshake_timeout" });
    expect(performance.now() - started).toBeGreaterThan(800);
  });
});
