import { describe, expect, it } from "bun:test";
import type { ErrorCode } from "../protocol/constants.ts";
import { ProxyError } from "../protocol/errors.ts";
import { closeReasonFor, WispClose } from "./close-reason.ts";

describe("closeReasonFor", () => {
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
  ] as const)("%s (%s) is reason %i", (code, reason, expected) => {
    expect(closeReasonFor(new ProxyError(code as ErrorCode, reason))).toBe(expected);
  });
});
