import { describe, expect, it } from "bun:test";
import { parseRoute, RouteError, routeTable } from "./route.ts";

describe("--route PATH=HOST:PORT", () => {
  it("reads a path and a target", () => {
    expect(parseRoute("/vnc=127.0.0.1:5900")).toEqual({
      path: "/vnc",
      target: { host: "127.0.0.1", port: 5900 },
    });
    expect(parseRoute("/a/b=[::1]:22").target).toEqual({ host: "::1", port: 22 });
  });

  it.each([
    ["vnc=127.0.0.1:5900", "must start with /"],
    ["/vnc", "expected PATH=HOST:PORT"],
    ["/vnc?x=127.0.0.1:5900", "must start with /"],
    ["/vnc=127.0.0.1", "is not HOST:PORT"],
  ])("%p is refused: %p", (text, problem) => {
    expect(() => parseRoute(text)).toThrow(RouteError);
    expect(() => parseRoute(text)).toThrow(problem);
  });

  it("takes a PROXY protocol option after the target", () => {
    expect(parseRoute("/db=127.0.0.1:5432 proxy-protocol=v2").target).toEqual({
      host: "127.0.0.1",
      port: 5432,
      proxyProtocol: "v2",
    });
    expect(parseRoute("/db=[::1]:5432  proxy-protocol=off").target.proxyProtocol).toBe("off");
    expect(() => parseRoute("/db=127.0.0.1:5432 proxy-protocol=v3")).toThrow(
      'proxy-protocol expects v1, v2, off, got "v3"',
    );
    expect(() => parseRoute("/db=127.0.0.1:5432 send-proxy")).toThrow(
      'unknown option "send-proxy" after the target',
    );
  });

  it("refuses a path routed twice", () => {
    const routes = [parseRoute("/a=127.0.0.1:1"), parseRoute("/a=127.0.0.1:2")];
    expect(() => routeTable(routes)).toThrow("the path /a is routed twice");
  });
});
