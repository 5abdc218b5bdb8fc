import { describe, expect, it } from "bun:test";
import { parseTargetText } from "../../net/target-text.ts";
import { parseTokenFileText } from "./token-file.ts";

describe("parseTargetText", () => {
  it.each([
    ["127.0.0.1:5900", { host: "127.0.0.1", port: 5900 }],
    [" vnc.internal:5901 ", { host: "vnc.internal", port: 5901 }],
    ["[::1]:5900", { host: "::1", port: 5900 }],
    ["[::ffff:127.0.0.1]:22", { host: "127.0.0.1", port: 22 }],
  ])("%p is %p", (text, target) => {
    expect(parseTargetText(text)).toEqual(target);
  });

  it.each([
    ["127.0.0.1", "is not HOST:PORT"],
    ["::1:5900", "in brackets"],
    ["[::1]5900", "is not [IPV6]:PORT"],
    ["127.0.0.1:0", "from 1 to 65535"],
    ["127.0.0.1:65536", "from 1 to 65535"],
    ["127.0.0.1:05900", "from 1 to 65535"],
    ["127.0.0.1:59x", "from 1 to 65535"],
    [":5900", "has no host"],
    ["127.1:5900", "not a valid IPv4 address"],
    ["bad_name!:5900", "neither an IP address nor a valid host name"],
  ])("%p is refused: %p", (text, problem) => {
    expect(parseTargetText(text)).toContain(problem);
  });
});

describe("parseTokenFileText (websockify's TokenFile format)", () => {
  it("reads tokens, skips comments and blank lines, reports bad lines with file:line", () => {
    const parsed = parseTokenFileText(
      [
        "# comment",
        "",
        "a: 127.0.0.1:5900",
        "  b :  [::1]:5901  ",
        "no separator",
        "c: 127.0.0.1",
        "tok en: 127.0.0.1:1",
        "a: 127.0.0.1:5902",
      ].join("\r\n"),
      "tokens.conf",
    );
    expect([...parsed.targets]).toEqual([
      ["a", { host: "127.0.0.1", port: 5902 }],
      ["b", { host: "::1", port: 5901 }],
    ]);
    expect(parsed.problems).toEqual([
      "tokens.conf:5: expected TOKEN: HOST:PORT",
      'tokens.conf:6: "127.0.0.1" is not HOST:PORT',
      "tokens.conf:7: the token must be visible ASCII without spaces",
      "tokens.conf:3: its token is given again at tokens.conf:8, which wins (the last one does; a directory's files are read in name order)",
    ]);
  });

  it("reads a PROXY protocol option after the target; a bad one skips the line", () => {
    const parsed = parseTokenFileText(
      ["pg: 127.0.0.1:5432 proxy-protocol=v1", "x: 127.0.0.1:1 proxy-protocol=yes"].join("\n"),
      "tokens.conf",
    );
    expect([...parsed.targets]).toEqual([
      ["pg", { host: "127.0.0.1", port: 5432, proxyProtocol: "v1" }],
    ]);
    expect(parsed.problems).toEqual([
      'tokens.conf:2: proxy-protocol expects v1, v2, off, got "yes"',
    ]);
  });

  it("never puts a token in a problem", () => {
    const parsed = parseTokenFileText("secret-token: nowhere", "f");
    expect(parsed.problems.join()).not.toContain("secret-token");
  });
});
