import { describe, expect, test } from "bun:test";
import { Socket2WebError } from "./errors.ts";
import {
  checkFields,
  handshakeMessage,
  handshakeUrl,
  isGreeting,
  parseGreeting,
  parseStatus,
} from "./messages.ts";

describe("greeting", () => {
  test("returns the supported protocols map and ignores other keys", () => {
    const text = JSON.stringify({
      "supported protocols": {
        tcp: { target_ip: "IP Address", target_port: "Port for IP Address" },
      },
      server: "socket2web/1.0.0",
    });
    expect(parseGreeting(text)).toEqual({
      tcp: { target_ip: "IP Address", target_port: "Port for IP Address" },
    });
  });

  test.each([
    "not json",
    "[]",
    "{}",
    JSON.stringify({ supported_protocols: {} }),
    JSON.stringify({ "supported protocols": { tcp: { target_ip: 1 } } }),
  ])("refuses %s as a protocol_error", (text) => {
    expect(() => parseGreeting(text)).toThrow(Socket2WebError);
    expect(() => parseGreeting(text)).toThrow("protocol_error");
  });
});

describe("status", () => {
  test("connected keeps the echoed fields", () => {
    const status = parseStatus(
      JSON.stringify({
        status: "connected",
        protocol: "tcp",
        target_ip: "127.0.0.1",
        target_port: 80,
      }),
    );
    expect(status).toEqual({
      status: "connected",
      protocol: "tcp",
      target_ip: "127.0.0.1",
      target_port: 80,
    });
  });

  test("error carries the code and reason", () => {
    expect(
      parseStatus(JSON.stringify({ status: "error", error: "forbidden", reason: "denied" })),
    ).toEqual({
      status: "error",
      error: "forbidden",
      reason: "denied",
    });
  });

  test.each([
    JSON.stringify({ status: "error", error: "made_up", reason: "x" }),
    JSON.stringify({ status: "connected" }),
    JSON.stringify({ status: "pending" }),
    "42",
  ])("refuses %s", (text) => {
    expect(() => parseStatus(text)).toThrow("protocol_error");
  });
});

describe("handshake", () => {
  const tcp = { protocol: "tcp", fields: { target_ip: "::1", target_port: 80 } };

  test("sends the protocol's fields, and the token only when there is one", () => {
    expect(JSON.parse(handshakeMessage(tcp))).toEqual({
      protocol: "tcp",
      target_ip: "::1",
      target_port: 80,
    });
    expect(JSON.parse(handshakeMessage({ ...tcp, token: "t" }))).toMatchObject({ token: "t" });
  });

  test("takes any protocol's fields, e.g. a unix path", () => {
    const unix = { protocol: "unix", fields: { target_path: "/run/app.sock" } };
    expect(JSON.parse(handshakeMessage(unix))).toEqual({
      protocol: "unix",
      target_path: "/run/app.sock",
    });
  });

  test("the URL form carries the same fields as query parameters, keeping the URL's own", () => {
    const url = handshakeUrl("ws://proxy:8080/p?x=1", { ...tcp, token: "a b" });
    expect(url.pathname).toBe("/p");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      x: "1",
      protocol: "tcp",
      target_ip: "::1",
      target_port: "80",
      token: "a b",
    });
  });

  test.each([{ protocol: "x" }, { token: "x" }, { target_ip: null }])(
    "refuses the field map %j",
    (fields) => {
      expect(() => checkFields(fields as never)).toThrow(TypeError);
    },
  );

  test("tells a greeting from a status", () => {
    expect(isGreeting(JSON.stringify({ "supported protocols": {} }))).toBe(true);
    expect(isGreeting(JSON.stringify({ status: "connected", protocol: "tcp" }))).toBe(false);
    expect(isGreeting("not json")).toBe(false);
  });
});
