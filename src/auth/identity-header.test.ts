import { describe, expect, it } from "bun:test";
import { createPeerTrust } from "../net/client-address.ts";
import { identityFromHeader } from "./identity-header.ts";

describe("identityFromHeader", () => {
  const identity = { header: "x-auth-request-user", trusted: createPeerTrust(["127.0.0.1/32"]) };
  const headers = new Headers({ "X-Auth-Request-User": " alice@example.com " });

  it("names the principal from a trusted peer only", () => {
    expect(identityFromHeader(identity, headers, "127.0.0.1")).toEqual({
      kind: "named",
      principal: { name: "alice@example.com", source: "header" },
    });
    expect(identityFromHeader(identity, headers, "10.0.0.1")).toEqual({ kind: "untrusted" });
  });

  it("no header, an empty or an over-long one, or no --identity-header: nothing", () => {
    expect(identityFromHeader(identity, new Headers(), "127.0.0.1").kind).toBe("none");
    const long = new Headers({ "x-auth-request-user": "a".repeat(257) });
    expect(identityFromHeader(identity, long, "127.0.0.1").kind).toBe("none");
    expect(identityFromHeader(undefined, headers, "127.0.0.1").kind).toBe("none");
  });
});
