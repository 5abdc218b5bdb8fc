import { describe, expect, it } from "bun:test";
import { ProxyError } from "../protocol/errors.ts";
import { parseTargetHost } from "./target-host.ts";

describe("parseTargetHost", () => {
  it.each([
    ["127.0.0.1", "127.0.0.1", 4],
    ["::ffff:127.0.0.1", "127.0.0.1", 4],
    ["::ffff:7f00:1", "127.0.0.1", 4],
    ["::127.0.0.1", "127.0.0.1", 4],
    ["0:0:0:0:0:0:0:1", "::1", 6],
    ["::", "::", 6],
    ["2001:DB8::1", "2001:db8::1", 6],
  ] as const)("%s is the IP %s", (text, address, family) => {
    expect(parseTargetHost(text)).toEqual({ kind: "ip", address, family });
  });

  it.each(["localhost", "localhost.", "Db.Internal", "a-b.example.com", "x1.y2"])(
    "%s is a host name, kept as written",
    (text) => {
      expect(parseTargetHost(text)).toEqual({ kind: "name", name: text });
    },
  );

  it.each([
    "999.1.1.1",
    "127.1",
    "0177.0.0.1",
    "2130706433",
    "127.0.0.01",
    "0x7f.0.0.1",
    "0x7f000001",
    "a.0x10",
    "host.123",
    "[::1]",
    "fe80::1%lo",
    "1::2::3",
    "::ffff:0177.0.0.1",
    "bad_host!",
    "-a.example",
    "",
    "a..b",
  ])("%p is invalid_handshake", (text) => {
    let error: unknown;
    try {
      parseTargetHost(text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ProxyError);
    expect((error as ProxyError).code).toBe("invalid_handshake");
  });
});
