import { describe, expect, test } from "bun:test";
import { UsageError } from "../../config/usage-error.ts";
import { toSocksOptions } from "./socks.ts";

const base = { listen: "127.0.0.1:1080", server: "ws://proxy:8080/wisp/" };

describe("socks options", () => {
  test("defaults, and --mux with its ping interval", () => {
    const plain = toSocksOptions(base, {});
    expect(plain).toMatchObject({
      listen: { host: "127.0.0.1", port: 1080 },
      credential: undefined,
      maxConnections: 1024,
      handshakeTimeoutMs: 10_000,
      mux: undefined,
      endpoint: { protocol: "tcp" },
    });
    const mux = toSocksOptions({ ...base, mux: true, "ping-interval": "2.5" }, {});
    expect(mux.mux).toEqual({ pingIntervalMs: 2500 });
    const user = toSocksOptions({ ...base, "proxy-user": "alice:pa:ss" }, {});
    expect(user.credential).toEqual({ username: "alice", password: "pa:ss" });
  });

  test.each([
    [{ "proxy-user": "alice" }, "--proxy-user expects user:password"],
    [{ "proxy-user": ":secret" }, "--proxy-user expects user:password"],
    [{ "max-connections": "0" }, "--max-connections expects a whole number"],
    [{ "handshake-timeout": "soon" }, "--handshake-timeout expects seconds"],
    [{ mux: true, "ping-interval": "0.01" }, "--ping-interval expects at least 0.1 seconds"],
    [{ listen: undefined }, "--listen expects host:port"],
  ])("refuses %p saying %s", (extra, message) => {
    expect(() => toSocksOptions({ ...base, ...extra }, {})).toThrow(UsageError);
    expect(() => toSocksOptions({ ...base, ...extra }, {})).toThrow(message);
  });
});
