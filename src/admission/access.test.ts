import { describe, expect, it } from "bun:test";
import type { Grant } from "../auth/credentials.ts";
import { createCredentialCheck } from "../auth/credentials.ts";
import { createTokenSet } from "../auth/tokens.ts";
import { mapResolver } from "../net/resolver.ts";
import { createPolicy } from "../policy/policy.ts";
import { parseRule } from "../policy/rule.ts";
import { AccessDenied, checkedAddresses, grantFor } from "./access.ts";

const resolver = mapResolver({ "app.test": ["127.0.0.1", "::1"], "evil.test": "169.254.169.254" });
const open = createPolicy({ allow: [], deny: [] });
const anonymous: Grant = { ok: true, kind: "anonymous" };

/** What a check comes to, whether it throws at once or its promise rejects. */
async function outcome(check: () => unknown): Promise<unknown> {
  try {
    return await check();
  } catch (error) {
    return error;
  }
}

const codeOf = async (check: () => unknown) => {
  const result = await outcome(check);
  return result instanceof Error ? (result as AccessDenied).code : "ok";
};

describe("grantFor", () => {
  const credentials = createCredentialCheck({ tokens: createTokenSet(["t0ken"]) });

  it("uses the header's grant and ignores the handshake token", async () => {
    const header: Grant = { ok: true, kind: "token" };
    expect(await grantFor(credentials, header, "garbage")).toBe(header);
  });

  it("checks the handshake token otherwise; a bad one is unauthorized with its class, not the token", async () => {
    expect(await grantFor(credentials, undefined, "t0ken")).toMatchObject({
      ok: true,
      kind: "token",
    });
    const error = await outcome(() => grantFor(credentials, undefined, "nope"));
    expect(error).toBeInstanceOf(AccessDenied);
    expect((error as AccessDenied).message).toBe(
      "a valid credential is required: the one given is not valid",
    );
    expect(await codeOf(() => grantFor(credentials, undefined, undefined))).toBe("unauthorized");
  });
});

describe("checkedAddresses", () => {
  it("returns every checked address of a name", async () => {
    expect(
      await checkedAddresses(open, resolver, anonymous, "tcp", { host: "app.test", port: 80 }),
    ).toEqual(["127.0.0.1", "::1"]);
  });

  it("forbids what the policy denies, telling the client nothing of the rule", async () => {
    const error = (await outcome(() =>
      checkedAddresses(open, resolver, anonymous, "tcp", { host: "evil.test", port: 80 }),
    )) as AccessDenied;
    expect(error.code).toBe("forbidden");
    expect(error.message).toBe("evil.test:80 is not allowed");
    expect(error.logReason).toBe("169.254.169.254 is a cloud metadata address");
  });

  it("narrows by a ticket's allow and protocols pins", async () => {
    const ticket: Grant = {
      ok: true,
      kind: "ticket",
      pins: { allow: [parseRule("app.test:443")], protocols: ["tcp"] },
    };
    const target = (port: number) => ({ host: "app.test", port });
    expect(await codeOf(() => checkedAddresses(open, resolver, ticket, "tcp", target(443)))).toBe(
      "ok",
    );
    expect(await codeOf(() => checkedAddresses(open, resolver, ticket, "tcp", target(80)))).toBe(
      "forbidden",
    );
    expect(await codeOf(() => checkedAddresses(open, resolver, ticket, "udp", target(443)))).toBe(
      "forbidden",
    );
  });

  it("reports an unresolvable name as connect_failed", async () => {
    expect(
      await codeOf(() =>
        checkedAddresses(open, resolver, anonymous, "tcp", { host: "nowhere.test", port: 1 }),
      ),
    ).toBe("connect_failed");
  });
});
