import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes, sha256 } from "../helpers/bytes.ts";
import { processResult } from "../helpers/process-result.ts";
import { type RunningProxy, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";

const ROOT = join(import.meta.dir, "..", "..");
const scratch = mkdtempSync(join(tmpdir(), "socket2web-package-"));
const project = join(scratch, "consumer");

async function run(command: string[], cwd: string, timeoutMs = 60_000) {
  const proc = Bun.spawn(command, {
    cwd,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1", npm_config_update_notifier: "false" },
  });
  return processResult(proc, timeoutMs);
}

let proxy: RunningProxy;
let echo: TcpTarget;
let tarball: string;

beforeAll(async () => {
  // npm pack runs the package's prepack script: the client is built from source here.
  const packed = await run(["npm", "pack", "--pack-destination", scratch], ROOT);
  expect(packed.code).toBe(0);
  tarball = join(scratch, readdirSync(scratch).find((name) => name.endsWith(".tgz")) ?? "");
  mkdirSync(project);
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module" }),
  );
  // --offline: everything comes from the tarball, which has no dependencies.
  const installed = await run(
    ["npm", "install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball],
    project,
  );
  if (installed.code !== 0) throw new Error(`npm install failed:\n${installed.stderr}`);
  echo = startTcpTarget("echo");
  proxy = await startProxy();
}, 120_000);

afterAll(async () => {
  await proxy?.stop();
  echo?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

test("the tarball holds built JavaScript and .d.ts types, no TypeScript source", async () => {
  const listing = await run(["tar", "tzf", tarball], scratch);
  const files = listing.stdout.trim().split("\n");
  expect(files).toContain("package/dist/client/index.js");
  expect(files).toContain("package/dist/client/types/client/index.d.ts");
  expect(files.filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))).toEqual([]);
  const manifest = await Bun.file(join(project, "node_modules/socket2web/package.json")).json();
  expect(manifest.dependencies ?? {}).toEqual({});
  // Browser-safe: the bundle reaches for no Node module.
  const bundle = await Bun.file(
    join(project, "node_modules/socket2web/dist/client/index.js"),
  ).text();
  expect(bundle).not.toMatch(/from\s*["']node:|require\(/);
});

test("plain node runs an echo session through a real server with socket2web/client", async () => {
  const nodeMajor = Number(
    (await run(["node", "--version"], project)).stdout.trim().slice(1).split(".")[0],
  );
  // Node 22 has a global WebSocket; Node 20 needs the flag.
  const flags = nodeMajor < 22 ? ["--experimental-websocket"] : [];
  const payload = randomBytes(256 * 1024);
  writeFileSync(join(project, "payload.bin"), payload);
  writeFileSync(
    join(project, "echo.mjs"),
    `import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { connect, Socket2WebError } from "socket2web/client";

const [url, port] = process.argv.slice(2);
const payload = new Uint8Array(readFileSync("payload.bin"));
const connection = await connect(url, { protocol: "tcp", target_ip: "127.0.0.1", target_port: Number(port) });
const reader = connection.readable.getReader();
const writer = connection.writable.getWriter();
await writer.write(payload);
const hash = createHash("sha256");
let received = 0;
while (received < payload.byteLength) {
  const { value, done } = await reader.read();
  if (done) break;
  hash.update(value);
  received += value.byteLength;
}
connection.close();
const closed = await connection.closed;
let refused;
try {
  await connect(url, { protocol: "tcp", target_ip: "127.0.0.1", target_port: 0 });
} catch (error) {
  refused = error instanceof Socket2WebError ? error.code : String(error);
}
console.log(JSON.stringify({ status: connection.status.status, received, sha256: hash.digest("hex"), close: closed.code, refused }));
`,
  );
  const result = await run(["node", ...flags, "echo.mjs", proxy.url, String(echo.port)], project);
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout)).toEqual({
    status: "connected",
    received: payload.byteLength,
    sha256: sha256(payload),
    close: 1000,
    refused: "invalid_handshake",
  });
}, 30_000);

test("a TypeScript consumer type-checks against the published types, and a misuse does not", async () => {
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2022",
        lib: ["es2022", "dom"],
        types: [],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
      },
      include: ["consumer.ts"],
    }),
  );
  writeFileSync(
    join(project, "consumer.ts"),
    `import { type CloseInfo, type ConnectOptions, connect, Connection, Socket2WebError } from "socket2web/client";

const options: ConnectOptions = { protocol: "tcp", target_ip: "127.0.0.1", target_port: 6379, timeout: 1000 };
export async function ping(url: string): Promise<CloseInfo | string> {
  try {
    const connection: Connection = await connect(url, options);
    const writer: WritableStreamDefaultWriter<Uint8Array> = connection.writable.getWriter();
    await writer.write(new TextEncoder().encode("PING\\r\\n"));
    connection.close();
    return await connection.closed;
  } catch (error) {
    if (error instanceof Socket2WebError) return error.code;
    throw error;
  }
}
`,
  );
  const tsc = join(ROOT, "node_modules", ".bin", "tsc");
  const good = await run([tsc, "-p", "tsconfig.json"], project);
  expect(good.stdout + good.stderr).toBe("");
  expect(good.code).toBe(0);

  // The types are real: a wrong option type is an error, not `any`.
  writeFileSync(
    join(project, "consumer.ts"),
    `import { connect } from "socket2web/client";
export const bad = connect("ws://127.0.0.1:1", { protocol: "tcp", target_ip: "127.0.0.1", target_port: "6379" });
`,
  );
  const bad = await run([tsc, "-p", "tsconfig.json"], project);
  expect(bad.code).not.toBe(0);
  expect(bad.stdout).toContain("error TS2322: Type 'string' is not assignable to type 'number'");
}, 60_000);
