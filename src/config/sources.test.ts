import { describe, expect, it } from "bun:test";
import { openProxyWarning } from "./exposure.ts";
import { loadSettings } from "./load.ts";
import { readEnv, readFlags, unknownEnvWarnings } from "./sources.ts";
import { UsageError } from "./usage-error.ts";

describe("readFlags", () => {
  it("keeps every occurrence of a repeatable flag, in order, in both spellings", () => {
    expect(readFlags(["--allow", "a", "--port", "1", "--allow=b", "--allow", "c"]).allow).toEqual({
      value: ["a", "b", "c"],
      source: "flag",
      label: "--allow",
    });
  });

  it("takes the last of a single-value flag, and '' when the value is missing", () => {
    expect(readFlags(["--port", "1", "--port", "2"]).port?.value).toBe("2");
    expect(readFlags(["--port"]).port?.value).toBe("");
    expect(readFlags(["--port", "--timeout", "3"]).port?.value).toBe("");
    expect(readFlags(["--max-lifetime", "-5"])["max-lifetime"]?.value).toBe("-5");
  });

  it("reads switches with --x, --no-x and --x=value", () => {
    expect(readFlags(["--require-origin"])["require-origin"]?.value).toBe(true);
    expect(readFlags(["--no-require-origin"])["require-origin"]?.value).toBe(false);
    expect(readFlags(["--require-origin=false"])["require-origin"]?.value).toBe(false);
    expect(() => readFlags(["--require-origin=maybe"])).toThrow(UsageError);
  });

  it("refuses what is not a known flag, so that no argument is ever ignored", () => {
    expect(() => readFlags(["--", "--port", "1"])).toThrow('unexpected argument "--port"');
    expect(() => readFlags(["--port", "1", "extra"])).toThrow('unexpected argument "extra"');
    expect(() => readFlags(["--prot", "1"])).toThrow("unknown flag --prot (did you mean --port?)");
    expect(() => readFlags(["-p", "1"])).toThrow("unknown flag -p (did you mean --port?)");
    expect(() => readFlags(["--host", "x"])).toThrow("unknown flag --host (did you mean --ip?)");
    expect(() => readFlags(["--no-port"])).toThrow("unknown flag --no-port");
    expect(() => readFlags(["--auth-tokens", "x"])).toThrow(
      "unknown flag --auth-tokens (it can only be set as SOCKET2WEB_AUTH_TOKENS)",
    );
    expect(() => readFlags(["--constructor"])).toThrow("unknown flag --constructor");
    expect(() => readFlags(["--__proto__"])).toThrow("unknown flag --__proto__");
    expect(readFlags(["--port", "1", "--"]).port?.value).toBe("1");
  });

  it("refuses a repeatable flag without a value", () => {
    expect(() => readFlags(["--deny"])).toThrow("--deny expects a rule, got no value");
  });
});

describe("unknownEnvWarnings", () => {
  it("warns of each SOCKET2WEB_* variable that is no setting, naming the nearest", () => {
    expect(
      unknownEnvWarnings(
        {
          SOCKET2WEB_PROT: "1",
          SOCKET2WEB_PORT: "1",
          SOCKET2WEB_TIKET_SECRET: "x",
          SOCKET2WEB_FROBNICATE: "1",
          SOCKET2WEB_TOKEN: "t",
          OTHER_PROT: "1",
        },
        ["SOCKET2WEB_TOKEN"],
      ),
    ).toEqual([
      "SOCKET2WEB_FROBNICATE is not a socket2web setting and is ignored",
      "SOCKET2WEB_PROT is not a socket2web setting and is ignored (did you mean SOCKET2WEB_PORT?)",
      "SOCKET2WEB_TIKET_SECRET is not a socket2web setting and is ignored (did you mean SOCKET2WEB_TICKET_SECRET?)",
    ]);
  });
});

describe("readEnv", () => {
  it("splits lists on commas, trims, drops empty items; empty variables are unset", () => {
    const found = readEnv({
      SOCKET2WEB_ALLOW: " a, ,b ",
      SOCKET2WEB_PORT: "",
      SOCKET2WEB_BIN: "x",
    });
    expect(found.allow?.value).toEqual(["a", "b"]);
    expect(found.port).toBeUndefined();
  });

  it.each([
    ["SOCKET2WEB_TICKET_SECRET", ""],
    ["SOCKET2WEB_TICKET_SECRET_FILE", " "],
    ["SOCKET2WEB_AUTH_TOKENS", ""],
    ["SOCKET2WEB_ALLOW", ""],
    ["SOCKET2WEB_ALLOW", " , "],
    ["SOCKET2WEB_REQUIRE_ORIGIN", ""],
    ["SOCKET2WEB_TLS_CERT", ""],
  ])("a security setting given but empty is an error: %s=%p", (name, text) => {
    expect(() => readEnv({ [name]: text })).toThrow(`${name} is given but empty`);
  });

  it.each([
    ["1", true],
    ["yes", true],
    ["TRUE", true],
    ["0", false],
    ["off", false],
  ])("reads switch value %s as %p", (text, value) => {
    expect(readEnv({ SOCKET2WEB_REQUIRE_ORIGIN: text })["require-origin"]?.value).toBe(value);
  });
});

describe("loadSettings", () => {
  it("gives defaults with their origin when nothing is set", async () => {
    const { settings, origins } = await loadSettings([], {});
    expect(settings.port).toBe(433);
    expect(settings.allow).toEqual([]);
    expect(settings["require-origin"]).toBe(false);
    expect(origins.port).toEqual({ source: "default", label: "--port" });
  });

  it("prefers the flag over the environment and names the source of a bad value", async () => {
    expect((await loadSettings(["--port", "2"], { SOCKET2WEB_PORT: "3" })).settings.port).toBe(2);
    expect(loadSettings([], { SOCKET2WEB_TIMEOUT: "0" })).rejects.toThrow(
      "SOCKET2WEB_TIMEOUT expects a whole number from 1",
    );
  });
});

describe("openProxyWarning", () => {
  it.each([
    ["0.0.0.0", 0, false, true],
    ["::", 0, false, true],
    ["192.0.2.1", 0, false, true],
    ["127.0.0.1", 0, false, false],
    ["127.1.2.3", 0, false, false],
    ["::1", 0, false, false],
    ["localhost", 0, false, false],
    ["0.0.0.0", 1, false, false],
    ["0.0.0.0", 0, true, false],
  ] as const)("%s with %d allow rules, auth %p: warns %p", (ip, rules, auth, warns) => {
    expect(openProxyWarning(ip, rules, auth) !== undefined).toBe(warns);
  });
});
