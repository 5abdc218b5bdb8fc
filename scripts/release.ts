#!/usr/bin/env bun
/**
 * `make release`: one executable per platform in dist/, and a SHA256SUMS that verifies them.
 *
 * Offline once the npm cache holds them: each platform's Bun runtime comes from its npm package
 * (`@oven/bun-linux-aarch64`, …) at the Bun version this checkout pins, and is handed to
 * `bun build --compile` with `--compile-executable-path`, so Bun never downloads a runtime itself.
 * A target whose binary is newer than every source file is not rebuilt.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { RELEASE_TARGETS, type ReleaseTarget, SUMS_FILE } from "./release-targets.ts";

const ROOT = join(import.meta.dir, "..");
const DIST = join(ROOT, "dist");
const CACHE = join(ROOT, "node_modules", ".cache", "socket2web-release");
const BUN = join(ROOT, "node_modules", ".bin", "bun");

/** The Bun version this checkout pins (the `bun` devDependency). */
async function pinnedBunVersion(): Promise<string> {
  const manifest = await Bun.file(join(ROOT, "node_modules", "bun", "package.json")).json();
  return manifest.version as string;
}

async function run(command: string[], cwd = ROOT): Promise<void> {
  const proc = Bun.spawn(command, { cwd, stdout: "inherit", stderr: "inherit", stdin: "ignore" });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`${command.join(" ")} exited with ${code}`);
}

/** The target's Bun executable, unpacked from its npm package into the cache (once). */
async function runtimeFor(target: ReleaseTarget, version: string): Promise<string> {
  const dir = join(CACHE, `${target.npmPackage.replace("/", "+")}-${version}`);
  const executable = join(dir, target.runtimePath);
  if (existsSync(executable)) return executable;
  mkdirSync(dir, { recursive: true });
  // npm pack fetches the tarball through npm's own cache: no install, no platform check.
  await run([
    "npm",
    "pack",
    "--silent",
    "--pack-destination",
    dir,
    `${target.npmPackage}@${version}`,
  ]);
  const tarball = readdirSync(dir).find((name) => name.endsWith(".tgz"));
  if (!tarball) throw new Error(`npm pack left no tarball for ${target.npmPackage}@${version}`);
  await run(["tar", "xzf", tarball, "--strip-components=1"], dir);
  rmSync(join(dir, tarball));
  if (!existsSync(executable)) throw new Error(`${target.npmPackage} has no ${target.runtimePath}`);
  return executable;
}

/** The newest modification time among the files a binary is built from. */
function newestSource(): number {
  let newest = 0;
  const visit = (path: string) => {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const name of readdirSync(path)) visit(join(path, name));
    } else if (!path.endsWith(".test.ts")) newest = Math.max(newest, stat.mtimeMs);
  };
  for (const path of ["src", "package.json", "package-lock.json", "scripts"]) {
    visit(join(ROOT, path));
  }
  return newest;
}

async function build(target: ReleaseTarget, version: string, sourcesChanged: number) {
  const outfile = join(DIST, target.file);
  if (existsSync(outfile) && statSync(outfile).mtimeMs > sourcesChanged) {
    console.log(`${target.file}: up to date`);
    return;
  }
  const runtime = await runtimeFor(target, version);
  await run([
    BUN,
    "build",
    "--compile",
    `--target=${target.bunTarget}`,
    `--compile-executable-path=${runtime}`,
    // The program in its own chunk, loaded after the start-up's allocator restart (src/main.ts).
    "--splitting",
    // --bytecode needs ESM: with CJS the binary crashes on start (docs/bun-notes.md).
    "--bytecode",
    "--format=esm",
    "--minify",
    "--sourcemap",
    "src/main.ts",
    "--outfile",
    outfile,
  ]);
  // The source map is embedded in the executable; the separate file is not shipped.
  const base = outfile.replace(/\.exe$/, "");
  for (const map of [`${base}.map`, `${base}.exe.map`]) rmSync(map, { force: true });
  if (!existsSync(outfile)) throw new Error(`bun build did not write ${outfile}`);
}

async function sha256(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

async function main() {
  const version = await pinnedBunVersion();
  mkdirSync(DIST, { recursive: true });
  const sourcesChanged = newestSource();
  for (const target of RELEASE_TARGETS) await build(target, version, sourcesChanged);
  // sha256sum's own format ("HASH  NAME"), so `sha256sum -c SHA256SUMS` checks the files.
  const lines: string[] = [];
  for (const target of RELEASE_TARGETS) {
    lines.push(`${await sha256(join(DIST, target.file))}  ${target.file}`);
  }
  await Bun.write(join(DIST, SUMS_FILE), `${lines.join("\n")}\n`);
  console.log(`dist/${SUMS_FILE}:\n${lines.join("\n")}`);
}

await main();
