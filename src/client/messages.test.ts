import { describe, expect, test } from "bun:test";
import { Socket2WebError } from "./errors.ts";
import { handshakeMessage, parseGreeting, parseStatus } from "./messages.ts";

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
  test("sends the token only when there is one", () => {
    const fields = { protocol: "tcp", target_ip: "::1", target_port: 80 };
    expect(JSON.parse(handshakeMessage(fields))).toEqual(fields);
    expect(JSON.parse(handshakeMessage({ ...fields, token: "t" }))).toEqual({
      ...fields,
      token: "t",
    });
  });
});
