import { afterAll, expect, test } from "bun:test";
import { connect } from "node:net";
import { parseListenAddress } from "./listen-address.ts";
import { startMetricsListener } from "./listener.ts";
import { probe } from "./probe.ts";

let ready = true;
const listener = startMetricsListener("127.0.0.1", 0, {
  render: async () => "# TYPE up gauge\nup 1\n",
  contentType: "text/plain; version=0.0.4; charset=utf-8",
  ready: () => ready,
  sessions: () => 3,
});
afterAll(() => listener.stop());

const get = (path: string, method = "GET") => fetch(`${listener.url}${path}`, { method });

test("serves /metrics, /healthz and /readyz, nothing else", async () => {
  const metrics = await get("/metrics");
  expect(metrics.status).toBe(200);
  expect(metrics.headers.get("content-type")).toContain("version=0.0.4");
  expect(await metrics.text()).toBe("# TYPE up gauge\nup 1\n");
  expect(await (await get("/healthz")).json()).toEqual({ status: "ok", sessions: 3 });
  expect(await (await get("/readyz")).json()).toEqual({ status: "ready" });
  const other = await get("/");
  expect(other.status).toBe(404);
  expect(await other.text()).toContain("/metrics, /healthz and /readyz");
});

test("GET and HEAD only: 405 with Allow for the rest", async () => {
  const head = await get("/metrics", "HEAD");
  expect(head.status).toBe(200);
  expect(await head.text()).toBe("");
  for (const method of ["POST", "DELETE", "PUT"]) {
    const response = await get("/healthz", method);
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, HEAD");
  }
});

test("/readyz answers 503 once the server stops accepting; /healthz stays 200", async () => {
  ready = false;
  try {
    const response = await get("/readyz");
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: "shutting down" });
    expect((await get("/healthz")).status).toBe(200);
  } finally {
    ready = true;
  }
});

test("a request without a Host header gets a plain 400, no internals", async () => {
  const socket = connect(listener.port, "127.0.0.1");
  let answer = "";
  socket.on("data", (chunk) => {
    answer += chunk.toString();
  });
  const closed = new Promise((resolve) => socket.on("close", resolve));
  socket.write("GET /metrics HTTP/1.0\r\n\r\n");
  await closed;
  expect(answer).toMatch(/^HTTP\/1\.[01] 400/);
  expect(answer.length).toBeLessThan(400);
  expect(answer).not.toContain("src/");
});

test("probe: healthy on 200 only, with a one-line reason otherwise", async () => {
  expect(await probe(`${listener.url}/healthz`)).toEqual({
    healthy: true,
    message: `${listener.url}/healthz: HTTP 200`,
  });
  ready = false;
  try {
    expect((await probe(`${listener.url}/readyz`)).healthy).toBe(false);
  } finally {
    ready = true;
  }
  const stopped = startMetricsListener("127.0.0.1", 0, {
    render: async () => "",
    contentType: "text/plain",
    ready: () => true,
  });
  const url = `${stopped.url}/healthz`;
  stopped.stop();
  const refused = await probe(url);
  expect(refused.healthy).toBe(false);
  expect(refused.message).toStartWith(`${url}: `);
  expect(await probe("not a url")).toEqual({ healthy: false, message: 'not a URL: "not a url"' });
  expect((await probe("ftp://127.0.0.1/")).message).toContain("http:// or https://");
});

test.each([
  ["127.0.0.1:9090", { host: "127.0.0.1", port: 9090 }],
  ["0.0.0.0:1", { host: "0.0.0.0", port: 1 }],
  ["[::1]:9090", { host: "::1", port: 9090 }],
  ["localhost:65535", { host: "localhost", port: 65535 }],
])("listen address %s", (text, expected) => {
  expect(parseListenAddress(text)).toEqual(expected);
});

test.each([
  ["9090", "expects ADDRESS:PORT"],
  ["127.0.0.1", "expects ADDRESS:PORT"],
  ["::1:9090", "expects ADDRESS:PORT"],
  ["127.0.0.1:0", "port from 1 to 65535"],
  ["127.0.0.1:70000", "port from 1 to 65535"],
  ["example.com:9090", "IPv4 address, [IPv6 address] or localhost"],
  ["[127.0.0.1]:9090", "IPv4 address, [IPv6 address] or localhost"],
  ["0x7f.0.0.1:9090", "IPv4 address, [IPv6 address] or localhost"],
])("bad listen address %s", (text, message) => {
  expect(parseListenAddress(text)).toContain(message);
});
