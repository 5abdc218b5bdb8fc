import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TCPSocketListener } from "bun";
import { type RunningProxy, startProxy } from "../helpers/proxy.ts";
import { tempDir } from "../helpers/tls-cert.ts";

/**
 * The README's library example, run by Node as a user would run it, against the client built the
 * way the package ships it (one ES module). Node is whatever `node` is on PATH; the cases without
 * a WebSocket take the global away in a preload, so they hold on any Node version.
 */
const ROOT = new URL("../../", import.meta.url).pathname;
const nodeVersion = Bun.spawnSync(["node", "--version"], { stdout: "pipe", stderr: "ignore" });
const nodeMajor =
  nodeVersion.exitCode === 0
    ? Number(/^v(\d+)\./.exec(nodeVersion.stdout.toString())?.[1] ?? 0)
    : 0;
/** Node 20 (from 20.10) has the WebSocket behind a flag; 22 and later have it by default. */
const withWebSocket = nodeMajor >= 22 ? [] : ["--experimental-websocket"];
const REMOVE_WEBSOCKET =
  "data:text/javascript,globalThis.KeptWebSocket=globalThis.WebSocket;delete globalThis.WebSocket;";

let dir: string;
let proxy: RunningProxy;
let redis: TCPSocketListener;
let example: string;

/** The first ```ts block of the README's "Client library" section. */
async function readmeExample(): Promise<string> {
  const readme = await Bun.file(join(ROOT, "README.md")).text();
  const section = readme.slice(readme.indexOf("**Library**"));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (!code) throw new Error("README.md has no library example");
  return code;
}

beforeAll(async () => {
  if (nodeMajor < 20) return;
  dir = tempDir("socket2web-node-");
  const built = await Bun.build({
    entrypoints: [join(ROOT, "src", "client", "index.ts")],
    outdir: dir,
    target: "browser",
    format: "esm",
  });
  if (!built.success) throw new AggregateError(built.logs, "client bundle failed");
  // Answers Redis's PING as the example expects.
  redis = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket) {
        socket.write("+PONG\r\n");
      },
    },
  });
  proxy = await startProxy();
  const code = (await readmeExample())
    .replace('"socket2web/client"', JSON.stringify(join(dir, "index.js")))
    .replace('"ws://127.0.0.1:8080"', JSON.stringify(proxy.url))
    .replace("target_port: 6379", `target_port: ${redis.port}`);
  expect(code).toContain(proxy.url);
  example = join(dir, "example.mjs");
  writeFileSync(example, code);
});

afterAll(async () => {
  await proxy?.stop();
  redis?.stop(true);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function runNode(args: string[]) {
  const proc = Bun.spawn(["node", ...args], { stdout: "pipe", stderr: "pipe", cwd: dir });
  const killer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(killer);
  return { stdout, stderr, code };
}

describe.skipIf(nodeMajor < 20)("the README's library example in Node", () => {
  test("with a WebSocket it prints the target's reply and exits 0", async () => {
    const result = await runNode([...withWebSocket, example]);
    expect(result.stderr.replace(/.*ExperimentalWarning.*\n|.*--trace-warnings.*\n/g, "")).toBe("");
    expect(result.stdout).toBe("+PONG\r\n\n");
    expect(result.code).toBe(0);
  });

  test("without one it exits 1 and says which Node versions have one", async () => {
    const result = await runNode(["--import", REMOVE_WEBSOCKET, example]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "network_error undefined this runtime has no WebSocket: use Node.js 22 or later, or run Node.js 20 (20.10 or later) with --experimental-websocket",
    );
  });

  test("a webSocket factory stands in for the missing global", async () => {
    const factory = join(dir, "factory.mjs");
    writeFileSync(
      factory,
      (await Bun.file(example).text()).replace(
        "protocol: ",
        "webSocket: (url) => new globalThis.KeptWebSocket(url),\n    protocol: ",
      ),
    );
    const result = await runNode([...withWebSocket, "--import", REMOVE_WEBSOCKET, factory]);
    expect(result.stdout).toBe("+PONG\r\n\n");
    expect(result.code).toBe(0);
  });
});
