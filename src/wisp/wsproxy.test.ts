import { describe, expect, it } from "bun:test";
import { parseWsproxyTarget } from "./wsproxy.ts";

describe("parseWsproxyTarget", () => {
  it.each([
    ["127.0.0.1:80", { host: "127.0.0.1", port: 80 }],
    ["localhost:6379", { host: "localhost", port: 6379 }],
    ["[::1]:443", { host: "::1", port: 443 }],
    ["%5B%3A%3A1%5D:443", { host: "::1", port: 443 }],
  ] as const)("%s", (segment, target) => {
    expect(parseWsproxyTarget(segment)).toEqual(target);
  });

  it.each([
    ["127.0.0.1", "is not HOST:PORT"],
    [":80", "has no host"],
    ["::1:80", "in brackets"],
    ["host:080", "from 1 to 65535"],
    ["host:0", "from 1 to 65535"],
    ["host:65536", "from 1 to 65535"],
    ["host:8e1", "from 1 to 65535"],
    ["host:%zz", "percent-encoded"],
  ])("%s is refused", (segment, reason) => {
    expect(parseWsproxyTarget(segment)).toContain(reason);
  });
});
