import { describe, expect, it } from "bun:test";
import { createClientAddressResolver, TrustProxyError } from "./client-address.ts";

describe("createClientAddressResolver", () => {
  const resolve = createClientAddressResolver(["10.0.0.0/8", "::1", "127.0.0.1"]);

  it("ignores X-Forwarded-For from an untrusted peer", () => {
    expect(resolve("203.0.113.9", "1.2.3.4")).toBe("203.0.113.9");
    expect(resolve("::ffff:203.0.113.9", "1.2.3.4")).toBe("203.0.113.9");
  });

  it("uses the peer when a trusted proxy sends no header", () => {
    expect(resolve("10.0.0.2", null)).toBe("10.0.0.2");
    expect(resolve("10.0.0.2", undefined)).toBe("10.0.0.2");
    expect(resolve("10.0.0.2", "")).toBe("10.0.0.2");
  });

  it("takes the right-most untrusted address", () => {
    expect(resolve("10.0.0.2", "198.51.100.1")).toBe("198.51.100.1");
    // A client-forged left part is skipped.
    expect(resolve("10.0.0.2", "127.0.0.1, 198.51.100.1")).toBe("198.51.100.1");
    expect(resolve("10.0.0.2", "6.6.6.6, 198.51.100.1, 10.0.0.7")).toBe("198.51.100.1");
    expect(resolve("::1", "198.51.100.1, 10.1.1.1")).toBe("198.51.100.1");
  });

  it("normalises mapped forms in the header and the peer", () => {
    expect(resolve("::ffff:10.0.0.2", "::ffff:198.51.100.1")).toBe("198.51.100.1");
    expect(resolve("10.0.0.2", "::ffff:10.0.0.3, ::ffff:c633:6401")).toBe("198.51.100.1");
  });

  it("accepts ports and brackets that some proxies add", () => {
    expect(resolve("10.0.0.2", "198.51.100.1:5123")).toBe("198.51.100.1");
    expect(resolve("10.0.0.2", "[2001:db8::1]:5123")).toBe("2001:db8::1");
    expect(resolve("10.0.0.2", "[2001:db8::1]")).toBe("2001:db8::1");
    expect(resolve("10.0.0.2", "2001:db8::1")).toBe("2001:db8::1");
  });

  it("stops at a garbage entry, blaming the proxy that wrote it", () => {
    expect(resolve("10.0.0.2", "198.51.100.1, unknown")).toBe("10.0.0.2");
    expect(resolve("10.0.0.2", "198.51.100.1, 10.0.0.3, 127.1")).toBe("10.0.0.2");
    expect(resolve("10.0.0.2", "198.51.100.1, unknown, 10.0.0.3")).toBe("10.0.0.3");
    expect(resolve("10.0.0.2", " , ")).toBe("10.0.0.2");
  });

  it("returns the left-most hop when every hop is trusted", () => {
    expect(resolve("10.0.0.2", "10.0.0.4, 10.0.0.3")).toBe("10.0.0.4");
  });

  it("trusts nothing without ranges", () => {
    const none = createClientAddressResolver([]);
    expect(none("127.0.0.1", "198.51.100.1")).toBe("127.0.0.1");
  });

  it("refuses a bad range at start-up, naming it", () => {
    expect(() => createClientAddressResolver(["10.0.0.1/8"])).toThrow(TrustProxyError);
    expect(() => createClientAddressResolver(["lan"])).toThrow('invalid --trust-proxy "lan"');
  });
});
