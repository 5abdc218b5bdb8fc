import { describe, expect, it } from "bun:test";
import { ProxyError } from "../protocol/errors.ts";
import {
  describeFields,
  hostField,
  hostNameField,
  optional,
  parseFields,
  pathField,
  portField,
} from "./fields.ts";

const specs = {
  target_ip: hostField("IP Address"),
  target_port: portField("Port for IP Address"),
  server_name: optional(hostNameField("Optional: SNI")),
};

function reasonOf(
  handshake: Record<string, unknown>,
  fields: typeof specs | object = specs,
): string {
  try {
    parseFields(fields as typeof specs, handshake);
  } catch (error) {
    expect(error).toBeInstanceOf(ProxyError);
    expect((error as ProxyError).code).toBe("invalid_handshake");
    return (error as Error).message;
  }
  throw new Error("expected invalid_handshake");
}

describe("parseFields", () => {
  it("parses every field, normalising IP literals and leaving optional ones undefined", () => {
    expect(
      parseFields(specs, { target_ip: "::FFFF:127.0.0.1", target_port: 443, extra: 1 }),
    ).toEqual({ target_ip: "127.0.0.1", target_port: 443, server_name: undefined });
    expect(
      parseFields(specs, { target_ip: "app.test", target_port: 1, server_name: "Other.Test" }),
    ).toEqual({ target_ip: "app.test", target_port: 1, server_name: "Other.Test" });
  });

  it.each([
    [{ target_port: 1 }, "target_ip is required"],
    [{ target_ip: null, target_port: 1 }, "target_ip is required"],
    [{ target_ip: 1, target_port: 1 }, "target_ip must be a string"],
    [{ target_ip: "127.1", target_port: 1 }, "not a valid IPv4 address"],
    [{ target_ip: "127.0.0.1" }, "target_port is required"],
    [
      { target_ip: "127.0.0.1", target_port: "80" },
      "target_port must be an integer from 1 to 65535",
    ],
    [
      { target_ip: "127.0.0.1", target_port: 1, server_name: "10.0.0.1" },
      "server_name must be a host name",
    ],
    [
      { target_ip: "127.0.0.1", target_port: 1, server_name: "bad_name!" },
      'server_name "bad_name!" is not a valid host name',
    ],
    [{ target_ip: "127.0.0.1", target_port: 1, server_name: 7 }, "server_name must be a string"],
  ])("%p is refused: %s", (handshake, reason) => {
    expect(reasonOf(handshake)).toContain(reason);
  });

  it.each([
    ["", "must not be empty"],
    ["/run/a\0b", "must not contain a NUL character"],
    [`/${"x".repeat(107)}`, "longer than 107 bytes"],
  ])("a path %p is refused: %s", (path, reason) => {
    expect(reasonOf({ target_path: path }, { target_path: pathField("Path") })).toContain(reason);
  });

  it("describes fields for the greeting, in declaration order", () => {
    expect(describeFields(specs)).toEqual({
      target_ip: "IP Address",
      target_port: "Port for IP Address",
      server_name: "Optional: SNI",
    });
    expect(Object.keys(describeFields(specs))).toEqual(["target_ip", "target_port", "server_name"]);
  });
});
