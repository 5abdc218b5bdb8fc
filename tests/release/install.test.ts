import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { processResult } from "../helpers/process-result.ts";
import { buildRelease, DIST, ROOT } from "./build.ts";

const INSTALLER = join(ROOT, "install.sh");
/** The release name of the machine running the tests (Linux here). */
const HOST = `linux-${process.arch === "arm64" ? "arm64" : "x64"}`;
const scratch = mkdtempSync(join(tmpdir(), "socket2web-install-"));

/** Serves dist/ on loopback, as a release page would; `swap` answers one name with another file. */
function serveRelease(swap: Record<string, string> = {}) {
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const name = decodeURIComponent(new URL(request.url).pathname.replace(/^\/release\//, ""));
      const file = Bun.file(join(DIST, swap[name] ?? name));
      return file.size > 0 && !name.includes("/")
        ? new Response(file)
        : new Response("not found", { status: 404 });
    },
  });
}

let release: ReturnType<typeof serveRelease>;
let baseUrl: string;
beforeAll(async () => {
  await buildRelease();
  release = serveRelease();
  baseUrl = `http://127.0.0.1:${release.port}/release`;
}, 180_000);
afterAll(() => {
  release?.stop(true);
  rmSync(scratch, { recursive: true, force: true });
});

/** A directory whose `uname` reports the given kernel and machine, put first on PATH. */
function fakeUname(kernel: string, machine: string): string {
  const dir = mkdtempSync(join(scratch, "uname-"));
  const script = join(dir, "uname");
  writeFileSync(
    script,
    `#!/bin/sh\ncase "$1" in -s) echo '${kernel}' ;; -m) echo '${machine}' ;; *) echo '${kernel}' ;; esac\n`,
  );
  chmodSync(script, 0o755);
  return dir;
}

/** Runs install.sh with POSIX sh (dash on Debian). */
async function install(args: string[], pathPrefix?: string) {
  const proc = Bun.spawn(["sh", INSTALLER, ...args], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: {
      ...process.env,
      PATH: pathPrefix ? `${pathPrefix}:${process.env.PATH}` : (process.env.PATH ?? ""),
    },
  });
  return processResult(proc);
}

const sha256 = async (path: string) =>
  new Bun.CryptoHasher("sha256").update(await Bun.file(path).arrayBuffer()).digest("hex");

test("installs this machine's binary as PREFIX/bin/socket2web after checking SHA256SUMS", async () => {
  const prefix = join(scratch, "host");
  const run = await install(["--base-url", baseUrl, "--prefix", prefix]);
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  const installed = join(prefix, "bin", "socket2web");
  expect(run.stdout).toContain(
    `installed socket2web ${packageJson.version} (${HOST}) as ${installed}`,
  );
  expect(run.stdout).toContain("checksum ok");
  expect(await sha256(installed)).toBe(await sha256(join(DIST, `socket2web-${HOST}`)));
  expect(statSync(installed).mode & 0o777).toBe(0o755);
  const version = Bun.spawnSync([installed, "--version"]);
  expect(version.stdout.toString().trim()).toBe(packageJson.version);
}, 30_000);

test("picks the binary by uname: an arm64 Linux gets socket2web-linux-arm64", async () => {
  const prefix = join(scratch, "arm64");
  const run = await install(
    ["--base-url", baseUrl, "--prefix", prefix],
    fakeUname("Linux", "aarch64"),
  );
  expect(run.code).toBe(0);
  expect(run.stdout).toContain("(linux-arm64)");
  expect(await sha256(join(prefix, "bin", "socket2web"))).toBe(
    await sha256(join(DIST, "socket2web-linux-arm64")),
  );
}, 30_000);

test("a tampered binary (checksum mismatch) installs nothing and exits non-zero", async () => {
  const tampered = serveRelease({ [`socket2web-${HOST}`]: "socket2web-darwin-arm64" });
  try {
    const prefix = join(scratch, "tampered");
    const run = await install([
      "--base-url",
      `http://127.0.0.1:${tampered.port}/release`,
      "--prefix",
      prefix,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`checksum mismatch for socket2web-${HOST}`);
    expect(run.stderr).toContain("Nothing was installed");
    expect(existsSync(join(prefix, "bin", "socket2web"))).toBe(false);
    expect(existsSync(join(prefix, "bin", ".socket2web.new"))).toBe(false);
  } finally {
    tampered.stop(true);
  }
}, 30_000);

test("an unknown platform gets a clear error naming the supported ones", async () => {
  const prefix = join(scratch, "unknown");
  const run = await install(
    ["--base-url", baseUrl, "--prefix", prefix],
    fakeUname("SunOS", "sparc64"),
  );
  expect(run.code).toBe(1);
  expect(run.stderr).toContain("no release binary for this platform (SunOS sparc64)");
  expect(run.stderr).toContain("linux-x64 linux-arm64 darwin-arm64 windows-x64");
  expect(existsSync(prefix)).toBe(false);
});

test("a release without this platform's file, and a bad option, fail clearly", async () => {
  const prefix = join(scratch, "missing");
  const missing = await install(["--base-url", `${baseUrl}/nowhere`, "--prefix", prefix]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain(`could not download ${baseUrl}/nowhere/SHA256SUMS`);
  expect(existsSync(prefix)).toBe(false);

  const bad = await install(["--prefx", prefix]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("unknown option: --prefx");
  expect(bad.stderr).toContain("Usage: install.sh");
});
