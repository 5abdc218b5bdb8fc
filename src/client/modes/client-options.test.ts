import { describe, expect, test } from "bun:test";
import { UsageError } from "../../cli/usage-error.ts";
import { parseSeconds, toForwardOptions, toProxyEndpointOptions } from "./client-options.ts";

const base = { _: [], server: "ws://127.0.0.1:8080", target: "127.0.0.1:5432" };

describe("client options", () => {
  test("defaults", () => {
    expect(toProxyEndpointOptions(base, {})).toEqual({
      server: new URL("ws://127.0.0.1:8080"),
      target: { host: "127.0.0.1", port: 5432 },
      protocol: "tcp",
      token: undefined,
      ca: undefined,
      insecure: false,
      timeoutMs: 30_000,
      lingerMs: 1000,
      logLevel: "info",
    });
  });

  test("the token comes from --token, else from SOCKET2WEB_TOKEN", () => {
    expect(toProxyEndpointOptions(base, { SOCKET2WEB_TOKEN: "env" }).token).toBe("env");
    expect(
      toProxyEndpointOptions({ ...base, token: "flag" }, { SOCKET2WEB_TOKEN: "env" }).token,
    ).toBe("flag");
    expect(toProxyEndpointOptions(base, { SOCKET2WEB_TOKEN: "" }).token).toBeUndefined();
  });

  test("wss:// takes --ca and --insecure; ws:// refuses them", () => {
    const secure = { ...base, server: "wss://proxy.example:443" };
    expect(toProxyEndpointOptions({ ...secure, ca: "ca.pem", insecure: true }, {})).toMatchObject({
      ca: "ca.pem",
      insecure: true,
    });
    expect(() => toProxyEndpointOptions({ ...base, insecure: true }, {})).toThrow(
      "--insecure needs a wss://",
    );
    expect(() => toProxyEndpointOptions({ ...base, ca: "ca.pem" }, {})).toThrow(
      "--ca needs a wss://",
    );
  });

  test.each([
    [{ server: undefined }, "--server"],
    [{ server: "http://proxy" }, "--server"],
    [{ server: "not a url" }, "--server"],
    [{ target: undefined }, "--target"],
    [{ target: "::1:80" }, "--target"],
    [{ protocol: "" }, "--protocol"],
    [{ timeout: "-1" }, "--timeout"],
    [{ linger: "1s" }, "--linger"],
    [{ "log-level": "loud" }, "--log-level"],
    [{ _: ["extra"] }, "unexpected argument"],
  ])("refuses %j naming %s", (override, flag) => {
    expect(() => toProxyEndpointOptions({ ...base, ...override }, {})).toThrow(UsageError);
    expect(() => toProxyEndpointOptions({ ...base, ...override }, {})).toThrow(flag);
  });

  test("forward needs --listen and allows port 0", () => {
    expect(toForwardOptions({ ...base, listen: "127.0.0.1:0" }, {}).listen).toEqual({
      host: "127.0.0.1",
      port: 0,
    });
    expect(() => toForwardOptions(base, {})).toThrow("--listen");
  });

  test.each([
    ["0", 0],
    ["0.25", 250],
    ["2", 2000],
  ])("seconds %s → %d ms", (value, ms) => {
    expect(parseSeconds("linger", value, 3600)).toBe(ms);
  });
});
