import { describe, expect, test } from "bun:test";
import { UsageError } from "../../config/usage-error.ts";
import { parseSeconds, toForwardOptions, toProxyEndpointOptions } from "./client-options.ts";

const base = { _: [], server: "ws://127.0.0.1:8080", target: "127.0.0.1:5432" };

describe("client options", () => {
  test("defaults", () => {
    expect(toProxyEndpointOptions(base, {})).toEqual({
      server: new URL("ws://127.0.0.1:8080"),
      protocol: "tcp",
      fields: { target_ip: "127.0.0.1", target_port: 5432 },
      targetLabel: "127.0.0.1:5432",
      token: undefined,
      headers: {},
      ca: undefined,
      insecure: false,
      timeoutMs: 30_000,
      lingerMs: 1000,
      handshake: "url",
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
    [{ origin: "not a url" }, "--origin"],
    [{ _: ["extra"] }, "unexpected argument"],
  ])("refuses %j naming %s", (override, flag) => {
    expect(() => toProxyEndpointOptions({ ...base, ...override }, {})).toThrow(UsageError);
    expect(() => toProxyEndpointOptions({ ...base, ...override }, {})).toThrow(flag);
  });

  test("--origin and --header become upgrade headers; the handshake's own are refused", () => {
    const raw = ["--header", "X-Trace: 1", "--header=Authorization: Bearer abc"];
    expect(
      toProxyEndpointOptions({ ...base, origin: "https://app.example.com/x" }, {}, raw).headers,
    ).toEqual({
      "X-Trace": "1",
      Authorization: "Bearer abc",
      Origin: "https://app.example.com",
    });
    for (const bad of ["Upgrade: h2c", "Sec-WebSocket-Key: x", "no colon", "X: a\r\nB: c"]) {
      expect(() => toProxyEndpointOptions(base, {}, ["--header", bad])).toThrow("--header");
    }
  });

  test("--greeting-handshake waits for the greeting instead of the URL form", () => {
    expect(toProxyEndpointOptions({ ...base, "greeting-handshake": true }, {}).handshake).toBe(
      "message",
    );
  });

  test("forward takes --log-level; a bad one is refused", () => {
    const forward = { ...base, listen: "127.0.0.1:0" };
    expect(toForwardOptions(forward, {}).logLevel).toBe("info");
    expect(() => toForwardOptions({ ...forward, "log-level": "loud" }, {})).toThrow("--log-level");
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
