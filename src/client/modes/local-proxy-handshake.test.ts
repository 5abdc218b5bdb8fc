import { describe, expect, test } from "bun:test";
import { LocalHandshake, MAX_HANDSHAKE_BYTES, SocksReply } from "./local-proxy-handshake.ts";

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
const CONNECT_HEAD = [0x05, 0x01, 0x00];

function socksConnect(type: number, address: number[], port: number): Uint8Array {
  return Uint8Array.of(...CONNECT_HEAD, type, ...address, port >> 8, port & 0xff);
}

describe("SOCKS5", () => {
  test("no authentication, then CONNECT to a domain name (sent to the server unresolved)", () => {
    const handshake = new LocalHandshake(undefined);
    expect(handshake.feed(Uint8Array.of(0x05, 0x01, 0x00))).toEqual({
      kind: "more",
      reply: Uint8Array.of(0x05, 0x00),
    });
    const name = [...new TextEncoder().encode("db.internal")];
    const step = handshake.feed(socksConnect(0x03, [name.length, ...name], 5432));
    expect(step).toMatchObject({
      kind: "request",
      request: { protocol: "socks5", host: "db.internal", port: 5432 },
    });
  });

  test("IPv4 and IPv6 addresses, and bytes pipelined behind the request", () => {
    const v4 = new LocalHandshake(undefined);
    v4.feed(Uint8Array.of(0x05, 0x01, 0x00));
    const step = v4.feed(
      Uint8Array.of(...socksConnect(0x01, [127, 0, 0, 1], 80), ...new TextEncoder().encode("GET")),
    );
    expect(step).toMatchObject({ kind: "request", request: { host: "127.0.0.1", port: 80 } });
    expect(step.kind === "request" && text(step.request.early)).toBe("GET");

    const v6 = new LocalHandshake(undefined);
    // Greeting and request in one chunk: the method reply comes with the request.
    const loopback = [...new Array(15).fill(0), 1];
    const both = v6.feed(Uint8Array.of(0x05, 0x01, 0x00, ...socksConnect(0x04, loopback, 443)));
    expect(both).toMatchObject({ kind: "request", request: { host: "::1", port: 443 } });
    expect(both.kind === "request" && [...(both.reply ?? [])]).toEqual([0x05, 0x00]);
  });

  test("a request split across many chunks", () => {
    const handshake = new LocalHandshake(undefined);
    const bytes = Uint8Array.of(0x05, 0x01, 0x00, ...socksConnect(0x01, [10, 0, 0, 5], 6379));
    let last = handshake.feed(bytes.subarray(0, 1));
    for (let i = 1; i < bytes.byteLength; i++) last = handshake.feed(bytes.subarray(i, i + 1));
    expect(last).toMatchObject({ kind: "request", request: { host: "10.0.0.5", port: 6379 } });
  });

  test("BIND and UDP ASSOCIATE get 0x07, an unknown address type 0x08", () => {
    for (const command of [0x02, 0x03]) {
      const handshake = new LocalHandshake(undefined);
      handshake.feed(Uint8Array.of(0x05, 0x01, 0x00));
      const step = handshake.feed(Uint8Array.of(0x05, command, 0x00, 0x01, 127, 0, 0, 1, 0, 80));
      expect(step.kind).toBe("fail");
      expect(step.kind === "fail" && step.reply[1]).toBe(SocksReply.commandNotSupported);
    }
    const handshake = new LocalHandshake(undefined);
    handshake.feed(Uint8Array.of(0x05, 0x01, 0x00));
    const step = handshake.feed(Uint8Array.of(0x05, 0x01, 0x00, 0x09, 0, 0));
    expect(step.kind === "fail" && step.reply[1]).toBe(SocksReply.addressTypeNotSupported);
  });

  test("user/password (RFC 1929): the right pair passes, a wrong one and no offer are refused", () => {
    const credential = { username: "alice", password: "s3cret" };
    const auth = (user: string, password: string) =>
      Uint8Array.of(
        0x01,
        user.length,
        ...new TextEncoder().encode(user),
        password.length,
        ...new TextEncoder().encode(password),
      );
    const good = new LocalHandshake(credential);
    expect(good.feed(Uint8Array.of(0x05, 0x02, 0x00, 0x02))).toEqual({
      kind: "more",
      reply: Uint8Array.of(0x05, 0x02),
    });
    expect(good.feed(auth("alice", "s3cret"))).toEqual({
      kind: "more",
      reply: Uint8Array.of(0x01, 0x00),
    });
    expect(good.feed(socksConnect(0x01, [127, 0, 0, 1], 22)).kind).toBe("request");

    const bad = new LocalHandshake(credential);
    bad.feed(Uint8Array.of(0x05, 0x01, 0x02));
    expect(bad.feed(auth("alice", "wrong"))).toMatchObject({
      kind: "fail",
      reply: Uint8Array.of(0x01, 0x01),
    });

    const none = new LocalHandshake(credential);
    expect(none.feed(Uint8Array.of(0x05, 0x01, 0x00))).toMatchObject({
      kind: "fail",
      reply: Uint8Array.of(0x05, 0xff),
    });
  });

  test("SOCKS4 and other first bytes are refused", () => {
    expect(new LocalHandshake(undefined).feed(Uint8Array.of(0x04, 0x01))).toMatchObject({
      kind: "fail",
      why: expect.stringContaining("SOCKS4"),
    });
    expect(new LocalHandshake(undefined).feed(Uint8Array.of(0x16, 0x03))).toMatchObject({
      kind: "fail",
    });
  });
});

describe("HTTP", () => {
  const encode = (value: string) => new TextEncoder().encode(value);

  test("CONNECT host:port and [v6]:port, with bytes after the head kept", () => {
    const step = new LocalHandshake(undefined).feed(
      encode("CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n\x16\x03"),
    );
    expect(step).toMatchObject({
      kind: "request",
      request: { protocol: "http-connect", host: "localhost", port: 443 },
    });
    expect(step.kind === "request" && [...step.request.early]).toEqual([0x16, 0x03]);
    expect(
      new LocalHandshake(undefined).feed(encode("CONNECT [::1]:22 HTTP/1.1\r\n\r\n")),
    ).toMatchObject({
      kind: "request",
      request: { host: "::1", port: 22 },
    });
  });

  test("a plain request for an http:// URL goes to port 80 in origin form, closing after it", () => {
    const step = new LocalHandshake(undefined).feed(
      encode(
        "GET http://example.test/a?b=1 HTTP/1.1\r\nHost: example.test\r\nProxy-Connection: keep-alive\r\n\r\n",
      ),
    );
    expect(step).toMatchObject({
      kind: "request",
      request: { protocol: "http", host: "example.test", port: 80 },
    });
    expect(step.kind === "request" && text(step.request.early)).toBe(
      "GET /a?b=1 HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n",
    );
  });

  test("an https:// URL without CONNECT, a bad CONNECT and a head too long get HTTP errors", () => {
    const https = new LocalHandshake(undefined).feed(
      encode("GET https://x.test/ HTTP/1.1\r\n\r\n"),
    );
    expect(https.kind === "fail" && text(https.reply)).toStartWith("HTTP/1.1 400");
    const noPort = new LocalHandshake(undefined).feed(encode("CONNECT x.test HTTP/1.1\r\n\r\n"));
    expect(noPort.kind === "fail" && text(noPort.reply)).toStartWith("HTTP/1.1 400");
    const long = new LocalHandshake(undefined).feed(
      encode(`GET http://x.test/ HTTP/1.1\r\nX: ${"a".repeat(MAX_HANDSHAKE_BYTES)}`),
    );
    expect(long.kind === "fail" && text(long.reply)).toStartWith("HTTP/1.1 431");
  });

  test("Proxy-Authorization Basic when --proxy-user is set", () => {
    const credential = { username: "alice", password: "s3cret" };
    const missing = new LocalHandshake(credential).feed(
      encode("CONNECT a.test:1 HTTP/1.1\r\n\r\n"),
    );
    expect(missing.kind === "fail" && text(missing.reply)).toContain("407");
    const basic = Buffer.from("alice:s3cret").toString("base64");
    const given = new LocalHandshake(credential).feed(
      encode(`CONNECT a.test:1 HTTP/1.1\r\nProxy-Authorization: Basic ${basic}\r\n\r\n`),
    );
    expect(given.kind).toBe("request");
  });
});
