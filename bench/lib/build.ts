// Builds dist/socket2web with `make build` when it is missing or older than src/, so the
// binary row never measures stale code.
import { existsSync, readdirSync, statSync } from "node:fs";
import { ROOT } from "../rows/row.ts";
import { BINARY, SOURCE_ENTRY } from "../rows/socket2web.ts";
import { spawnTracked } from "./procs.ts";

const BUILD_TIMEOUT_MS = 180_000;

/** Newest modification time under `dir`, ms. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile())
      newest = Math.max(newest, statSync(`${entry.parentPath}/${entry.name}`).mtimeMs);
  }
  return newest;
}

/** Builds dist/socket2web (make build) when it is missing or older than src/. */
export async function ensureBinary(notes: string[], log: (line: string) => void): Promise<void> {
  if (!existsSync(SOURCE_ENTRY) || process.env.BENCH_SOCKET2WEB_BIN) return;
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs >= newestMtime(`${ROOT}src`)) return;
  log("dist/socket2web missing or older than src/: running make build");
  // `-o node_modules/.installed`: never reinstall packages from here. In a worktree whose
  // node_modules is a link to a shared install, a fresh checkout's package.json looks newer than
  // that install, and `deps` (npm ci) through the link emptied the shared folder once.
  const build = spawnTracked("make build", ["make", "-o", "node_modules/.installed", "build"], {
    cwd: ROOT,
  });
  const done = await Promise.race([
    build.proc.exited,
    Bun.sleep(BUILD_TIMEOUT_MS).then(() => null),
  ]);
  await build.stop();
  if (done !== 0) notes.push(`make build failed or timed out: ${build.output().slice(-300)}`);
  else notes.push("dist/socket2web was built by the bench (make build)");
}
