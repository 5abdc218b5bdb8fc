import { afterAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { createConsola, LogLevels } from "consola";
import { defaultServerConfig } from "../config/defaults.ts";
import { mapResolver } from "../net/resolver.ts";

const DEFAULT_CONFIG = await defaultServerConfig();

import { startServer } from "./server.ts";

// The HTTP side of a real server on loopback, driven with raw requests so that malformed ones
// (no Host, odd methods) reach it exactly as written.

const logger = createConsola({ level: LogLevels.silent });
const server = startServer(
  { ...DEFAULT_CONFIG, port: 0, metrics: false },
  { logger, resolver: mapResolver({}) },
);
afterAll(() => server.shutdown(0));

/** Sends `head` as written and returns the whole answer; the server closes HTTP/1.0 connections. */
function raw(head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, "127.0.0.1", () => socket.write(head));
    let answer = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk) => {
      answer += chunk;
    });
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
  });
}

const statusOf = (answer: string) => Number(answer.split(" ")[1]);
const bodyOf = (answer: string) => answer.slice(answer.indexOf("\r\n\r\n") + 4);
const UPGRADE =
  "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

describe("a request without a valid Host header", () => {
  test.each([
    ["none, HTTP/1.0", "GET /healthz HTTP/1.0\r\n\r\n"],
    ["empty", "GET /healthz HTTP/1.0\r\nHost:\r\n\r\n"],
    ["with a space", "GET /healthz HTTP/1.0\r\nHost: a b\r\n\r\n"],
    ["an unclosed bracket", "GET /healthz HTTP/1.0\r\nHost: [zz\r\n\r\n"],
    ["an upgrade without Host", `GET / HTTP/1.0\r\n${UPGRADE}\r\n`],
    ["an upgrade with a bad Host", `GET / HTTP/1.0\r\nHost: a b\r\n${UPGRADE}\r\n`],
  ])("%s gets 400 and no internals", async (_, head) => {
    const answer = await raw(head);
    expect(statusOf(answer)).toBe(400);
    expect(bodyOf(answer)).toBe("400 Bad Request: a valid Host header is required\n");
  });
});

describe("health endpoints answer GET and HEAD only", () => {
  test.each(["/healthz", "/readyz"])("%s", async (path) => {
    expect(statusOf(await raw(`GET ${path} HTTP/1.0\r\nHost: x\r\n\r\n`))).toBe(200);
    const head = await raw(`HEAD ${path} HTTP/1.0\r\nHost: x\r\n\r\n`);
    expect(statusOf(head)).toBe(200);
    expect(bodyOf(head)).toBe("");
    for (const method of ["POST", "DELETE", "TRACE", "CONNECT", "PUT", "PATCH", "OPTIONS"]) {
      const answer = await raw(
        `${method} ${path} HTTP/1.0\r\nHost: x\r\nContent-Length: 0\r\n\r\n`,
      );
      expect([method, statusOf(answer)]).toEqual([method, 405]);
      expect(answer.toLowerCase()).toContain("allow: get, head");
    }
  });
});

describe("HEAD /metrics", () => {
  test("is answered like GET, without a body, when metrics are on", async () => {
    const { createMetrics } = await import("../metrics/metrics.ts");
    const withMetrics = startServer(
      { ...DEFAULT_CONFIG, port: 0, metrics: true },
      { logger, resolver: mapResolver({}), createMetrics },
    );
    try {
      const head = await fetch(`http://127.0.0.1:${withMetrics.port}/metrics`, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(head.headers.get("content-type")).toContain("text/plain");
      expect(await head.text()).toBe("");
    } finally {
      await withMetrics.shutdown(0);
    }
  });
});

describe("paths asked for by scrapers and browsers, not WebSocket clients", () => {
  test("/metrics without --metrics is a 404 that says how to turn metrics on", async () => {
    const answer = await raw("GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n");
    expect(statusOf(answer)).toBe(404);
    expect(bodyOf(answer)).toContain("--metrics");
    expect(bodyOf(answer)).toContain("--metrics-listen");
  });

  test("/favicon.ico is a 404; any other path still says 426 Upgrade Required", async () => {
    expect(statusOf(await raw("GET /favicon.ico HTTP/1.0\r\nHost: x\r\n\r\n"))).toBe(404);
    expect(statusOf(await raw("GET /other HTTP/1.0\r\nHost: x\r\n\r\n"))).toBe(426);
  });
});
