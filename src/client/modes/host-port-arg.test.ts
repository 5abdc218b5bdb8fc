import { describe, expect, test } from "bun:test";
import { UsageError } from "../../config/usage-error.ts";
import { parseHostPort } from "./host-port-arg.ts";

describe("parseHostPort", () => {
  test.each([
    ["db.internal:5432", { host: "db.internal", port: 5432 }],
    ["127.0.0.1:80", { host: "127.0.0.1", port: 80 }],
    ["[::1]:80", { host: "::1", port: 80 }],
    ["[2001:db8::1]:65535", { host: "2001:db8::1", port: 65535 }],
    ["localhost:1", { host: "localhost", port: 1 }],
  ])("%s", (value, expected) => {
    expect(parseHostPort("target", value)).toEqual(expected);
  });

  test.each([
    ["::1:80", /brackets/],
    ["[::1]80", /host:port/],
    ["127.0.0.1", /host:port/],
    [":80", /host:port/],
    ["host:", /port from 1/],
    ["host:0", /port from 1/],
    ["host:65536", /port from 1/],
    ["host:080", /port from 1/],
    ["host:8a", /port from 1/],
    ["[127.0.0.1]:80", /brackets are for IPv6/],
    ["", /no value/],
  ])("refuses %j", (value, message) => {
    expect(() => parseHostPort("target", value)).toThrow(UsageError);
    expect(() => parseHostPort("target", value)).toThrow(message);
    expect(() => parseHostPort("target", value)).toThrow("--target");
  });

  test("port 0 only where allowed (a listener picking a free port)", () => {
    expect(parseHostPort("listen", "127.0.0.1:0", { allowPortZero: true })).toEqual({
      host: "127.0.0.1",
      port: 0,
    });
    expect(() => parseHostPort("listen", "127.0.0.1:0")).toThrow("--listen");
  });
});
