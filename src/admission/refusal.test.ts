import { describe, expect, it } from "bun:test";
import type { ErrorCode } from "../protocol/constants.ts";
import { ProxyError } from "../protocol/errors.ts";
import { WispClose } from "../protocol/wisp-close.ts";
import { REFUSALS, Refusal, type RefusalCode } from "./refusal.ts";

describe("a refusal on a Wisp stream", () => {
  it.each([
    ["invalid_handshake", 'target_ip "999.1.1.1" is not a valid IPv4 address', WispClose.invalid],
    ["unsupported_protocol", "udp streams are not offered", WispClose.invalid],
    ["forbidden", "10.0.0.1:22 is not allowed", WispClose.blocked],
    ["connect_timeout", "target did not accept within 10 s", WispClose.timeout],
    ["connect_failed", "connect ECONNREFUSED 127.0.0.1:1", WispClose.refused],
    ["connect_failed", "connect EHOSTUNREACH 10.0.0.1:80", WispClose.unreachable],
    ["connect_failed", "could not resolve nowhere.example: ENOTFOUND", WispClose.unreachable],
    ["connect_failed", "db.internal resolved to no address", WispClose.unreachable],
    ["connect_failed", "connect ECONNRESET 127.0.0.1:80", WispClose.networkError],
    ["rate_limit", "too many", WispClose.throttled],
  ] as const)("%s (%s) is reason %i", (code, reason, expected) => {
    expect(new Refusal(code, reason).wispReason).toBe(expected);
  });
});

describe("the one table", () => {
  it.each([
    ["origin", 403, 4403],
    ["unauthorized", 401, 4401],
    ["forbidden", 403, 4403],
    ["unknown_target", 404, 4400],
    ["connect_failed", 502, 4502],
    ["connect_timeout", 504, 4504],
    ["rate_limit", 429, 1013],
    ["per_ip", 429, 1013],
    ["capacity", 503, 1013],
    ["shutdown", 503, 1001],
  ] as const)("%s: HTTP %i before the upgrade, close %i after it", (code, http, close) => {
    const refusal = new Refusal(code, "why");
    expect(refusal.row.http).toBe(http);
    expect(refusal.closeCode).toBe(close);
  });

  it("a protocol error keeps its code, message and the close code the client library knows", () => {
    const refusal = Refusal.of(
      new ProxyError("connect_failed" as ErrorCode, "connect ECONNREFUSED"),
    );
    expect(refusal.code).toBe("connect_failed");
    expect(refusal.closeCode).toBe(4502);
    expect(refusal.protocolError?.code).toBe("connect_failed");
    expect(new Refusal("capacity", "x").protocolError).toBeUndefined();
  });

  it("every row is counted under a known metric reason", () => {
    for (const code of Object.keys(REFUSALS) as RefusalCode[]) {
      expect(REFUSALS[code].metric).toBeString();
    }
  });

  it("answers before the upgrade in one format, with the headers its status needs", async () => {
    const unauthorized = new Refusal("unauthorized", "a valid credential is required").response();
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get("www-authenticate")).toBe('Bearer realm="socket2web"');
    expect(await unauthorized.text()).toBe("401 Unauthorized: a valid credential is required\n");
    const limited = new Refusal("rate_limit", "slow down").response();
    expect(limited.headers.get("retry-after")).toBe("1");
  });
});
