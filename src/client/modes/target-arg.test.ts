import { describe, expect, test } from "bun:test";
import { UsageError } from "../../config/usage-error.ts";
import { parseTarget } from "./target-arg.ts";

describe("--target", () => {
  test.each([
    ["127.0.0.1:80", undefined, "tcp", { target_ip: "127.0.0.1", target_port: 80 }, "127.0.0.1:80"],
    ["[::1]:5432", undefined, "tcp", { target_ip: "::1", target_port: 5432 }, "[::1]:5432"],
    [
      "db.internal:5432",
      "tls",
      "tls",
      { target_ip: "db.internal", target_port: 5432 },
      "db.internal:5432",
    ],
    [
      "unix:/run/app.sock",
      undefined,
      "unix",
      { target_path: "/run/app.sock" },
      "unix:/run/app.sock",
    ],
    ["/run/app.sock", "unix", "unix", { target_path: "/run/app.sock" }, "unix:/run/app.sock"],
    ["unix:/run/app.sock", "unix", "unix", { target_path: "/run/app.sock" }, "unix:/run/app.sock"],
  ])("%s with --protocol %s is %s %j", (value, protocol, expected, fields, label) => {
    expect(parseTarget(value, protocol)).toEqual({ protocol: expected, fields, label });
  });

  test("--field adds a protocol's other fields", () => {
    expect(parseTarget("db:443", "tls", ["server_name=db.example"]).fields).toEqual({
      target_ip: "db",
      target_port: 443,
      server_name: "db.example",
    });
  });

  test.each([
    ["::1:80", undefined, [], "brackets"],
    ["/run/app.sock", undefined, [], "unix:/run/app.sock"],
    ["unix:/run/app.sock", "tcp", [], "is a unix socket"],
    ["unix:", undefined, [], "socket path"],
    ["db:443", "tls", ["server_name"], "name=value"],
    ["db:443", "tls", ["target_ip=x"], "cannot set target_ip"],
    ["db:443", "tls", ["token=x"], "cannot set token"],
  ])("refuses %s (--protocol %s, --field %j) saying %s", (value, protocol, fields, text) => {
    expect(() => parseTarget(value, protocol, fields)).toThrow(UsageError);
    expect(() => parseTarget(value, protocol, fields)).toThrow(text);
  });
});
