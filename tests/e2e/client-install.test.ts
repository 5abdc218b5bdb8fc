import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { userMakeEnv } from "../helpers/make-env.ts";
import { tempDir } from "../helpers/tls-cert.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const dir = tempDir("socket2web-install-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("make install PREFIX=… puts a socket2web command on a PATH, usable from any folder", async () => {
  const prefix = join(dir, "prefix");
  // Built into the test's own folder, so the suite's dist/socket2web is never rewritten under it.
  const make = Bun.spawn(
    [
      "make",
      "--no-print-directory",
      "install",
      `PREFIX=${prefix}`,
      `BINARY=${join(dir, "build", "socket2web")}`,
    ],
    // As a user runs it: not a sub-make of `make test` (whose jobserver it would be told of).
    { cwd: ROOT, env: userMakeEnv(), stdout: "pipe", stderr: "pipe" },
  );
  const [out, err, code] = await Promise.all([
    new Response(make.stdout).text(),
    new Response(make.stderr).text(),
    make.exited,
  ]);
  expect(`${code} ${err}`).toBe("0 ");
  expect(out).toContain(`installed ${prefix}/bin/socket2web (`);
  expect(out).toContain("is not on PATH");

  const elsewhere = join(dir, "elsewhere");
  await Bun.spawn(["mkdir", "-p", elsewhere]).exited;
  const run = Bun.spawn(["socket2web", "--version"], {
    cwd: elsewhere,
    env: { PATH: `${prefix}/bin:/usr/bin:/bin` },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [version, runCode] = await Promise.all([new Response(run.stdout).text(), run.exited]);
  expect(runCode).toBe(0);
  expect(version.trim()).toMatch(/^\d+\.\d+\.\d+/);
}, 120_000);
