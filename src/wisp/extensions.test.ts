import { describe, expect, it } from "bun:test";
import { encodePasswordPayload, parsePasswordPayload, serverExtensions } from "./extensions.ts";

const utf8 = new TextEncoder();

describe("password extension", () => {
  it("reads the spec's layout", () => {
    const payload = encodePasswordPayload({ username: "me", password: "s3cret" });
    expect(parsePasswordPayload(payload)).toEqual({ username: "me", password: "s3cret" });
  });

  it("reads wisp-js's layout, which adds a uint16 password length", () => {
    const user = utf8.encode("me");
    const pass = utf8.encode("a token of some length");
    const payload = new Uint8Array(3 + user.length + pass.length);
    payload[0] = user.length;
    payload[1] = pass.length & 0xff;
    payload[2] = pass.length >> 8;
    payload.set(user, 3);
    payload.set(pass, 3 + user.length);
    expect(parsePasswordPayload(payload)).toEqual({
      username: "me",
      password: "a token of some length",
    });
  });

  it("refuses a user name longer than the payload, and bad UTF-8", () => {
    expect(parsePasswordPayload(Uint8Array.of(9, 0x61))).toBeUndefined();
    expect(parsePasswordPayload(Uint8Array.of(0, 0xff, 0xff, 0xff, 0xff))).toBeUndefined();
    expect(parsePasswordPayload(new Uint8Array(0))).toBeUndefined();
  });

  it("is offered only where a credential is required", () => {
    expect(serverExtensions({ udp: false, passwordRequired: false })).toEqual([]);
    expect(serverExtensions({ udp: true, passwordRequired: true }).map((e) => e.id)).toEqual([
      1, 2,
    ]);
  });
});
