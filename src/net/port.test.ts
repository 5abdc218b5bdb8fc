import { describe, expect, it } from "bun:test";
import { ProxyError } from "../protocol/errors.ts";
import { parsePort } from "./port.ts";

function reasonFor(value: unknown): string {
  try {
    parsePort(value);
  } catch (error) {
    expect(error).toBeInstanceOf(ProxyError);
    return (error as ProxyError).message;
  }
  throw new Error("accepted");
}

describe("parsePort", () => {
  it.each([1, 80, 65535])("%p is a port", (value) => {
    expect(parsePort(value)).toBe(value);
  });

  it.each([
    [JSON.parse('{"p":1e400}').p, "got a number too large to represent (such as 1e400)"],
    [JSON.parse('{"p":-1e400}').p, "got a number too large to represent (such as 1e400)"],
    [0, "got 0"],
    [65536, "got 65536"],
    [1.5, "got 1.5"],
    ["80", 'got "80"'],
    [null, "got null"],
    [undefined, "got nothing"],
  ])("%p is refused, saying what was sent", (value, said) => {
    expect(reasonFor(value)).toBe(`target_port must be an integer from 1 to 65535, ${said}`);
  });
});
