import { describe, expect, test } from "bun:test";
import { parseResponse } from "./refusal.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("reading a refused upgrade", () => {
  test("waits for the whole body by Content-Length", () => {
    const head = "HTTP/1.1 403 Forbidden\r\nContent-Length: 19\r\n\r\n";
    expect(parseResponse(bytes(`${head}origin not`), false)).toBeUndefined();
    expect(parseResponse(bytes(`${head}origin not allowed\n`), false)).toEqual({
      kind: "response",
      status: 403,
      statusText: "Forbidden",
      body: "origin not allowed",
    });
  });

  test("without Content-Length, the body ends with the connection", () => {
    const text = "HTTP/1.1 502 Bad Gateway\r\n\r\ntarget\nrefused";
    expect(parseResponse(bytes(text), false)).toBeUndefined();
    expect(parseResponse(bytes(text), true)).toMatchObject({ status: 502, body: "target refused" });
  });

  test("a 101 needs no body", () => {
    expect(parseResponse(bytes("HTTP/1.1 101 Switching Protocols\r\n\r\n"), false)).toMatchObject({
      status: 101,
    });
  });
});
