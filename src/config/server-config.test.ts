import { describe, expect, it } from "bun:test";
import { loadSettings } from "./load.ts";
import { camelCase, toServerConfig } from "./server-config.ts";

describe("toServerConfig", () => {
  it("takes every setting's value under its camel-cased key, defaults from the table", async () => {
    const { settings } = await loadSettings(["--max-connections", "7", "--port", "8080"], {});
    const config = toServerConfig(settings);
    expect(config.maxConnections).toBe(7);
    expect(config.port).toBe(8080);
    expect(config.ip).toBe("127.0.0.1");
    expect(config.logLevel).toBe("info");
    expect(config.maxMessageSize).toBe(16 * 1024 * 1024);
  });

  it("keeps secrets out", async () => {
    const { settings } = await loadSettings(["--ticket-secret", "s".repeat(32)], {});
    expect(Object.keys(toServerConfig(settings))).not.toContain("ticketSecret");
  });

  it("resolves --workers 0 to one per core, and refuses --metrics with workers", async () => {
    const zero = toServerConfig((await loadSettings(["--workers", "0"], {})).settings);
    expect(zero.workers).toBe(navigator.hardwareConcurrency);
    const both = (await loadSettings(["--workers", "2", "--metrics"], {})).settings;
    expect(() => toServerConfig(both)).toThrow("--metrics needs --workers 1");
  });

  it.each([
    ["ip", "ip"],
    ["max-connections-per-ip", "maxConnectionsPerIp"],
  ])("camel-cases %s as %s", (key, expected) => {
    expect(camelCase(key)).toBe(expected);
  });
});
