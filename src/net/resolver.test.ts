import { describe, expect, it } from "bun:test";
import {
  boundedResolver,
  mapResolver,
  ResolveError,
  type Resolver,
  systemResolver,
} from "./resolver.ts";

describe("mapResolver", () => {
  const resolve = mapResolver({ localhost: ["127.0.0.1", "::1"], "db.internal": "10.0.0.5" });

  it("returns the addresses with their family", async () => {
    expect(await resolve("localhost")).toEqual([
      { address: "127.0.0.1", family: 4 },
      { address: "::1", family: 6 },
    ]);
  });

  it("matches names like DNS: any case, trailing dot", async () => {
    expect(await resolve("LocalHost.")).toHaveLength(2);
    expect(await resolve("DB.internal")).toEqual([{ address: "10.0.0.5", family: 4 }]);
  });

  it("fails unknown names with ENOTFOUND", async () => {
    const error = await resolve("nowhere.invalid").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResolveError);
    expect((error as ResolveError).code).toBe("ENOTFOUND");
    expect((error as ResolveError).message).toBe("could not resolve nowhere.invalid: ENOTFOUND");
  });

  it("refuses a table entry that is not an IP", () => {
    expect(() => mapResolver({ a: "not-an-ip" })).toThrow("not an IP");
  });
});

describe("systemResolver", () => {
  // The only name resolved for real: /etc/hosts answers it, nothing leaves the machine.
  it("resolves localhost to loopback", async () => {
    const addresses = await systemResolver("localhost");
    expect(addresses.length).toBeGreaterThan(0);
    for (const { address, family } of addresses) {
      expect(address === "::1" || address.startsWith("127.")).toBe(true);
      expect(family === 4 || family === 6).toBe(true);
    }
  });
});

describe("boundedResolver", () => {
  it("passes answers through", async () => {
    const bounded = boundedResolver(mapResolver({ "app.test": "127.0.0.1" }), 1);
    expect(await bounded("app.test")).toEqual([{ address: "127.0.0.1", family: 4 }]);
  });

  it("gives up on a lookup that never answers with ETIMEOUT, after the bound", async () => {
    const never: Resolver = () => new Promise(() => {});
    const started = performance.now();
    const error = await boundedResolver(never, 1)("slow.test").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResolveError);
    expect((error as ResolveError).code).toBe("ETIMEOUT");
    expect(performance.now() - started).toBeGreaterThan(900);
  });
});
