import { join } from "node:path";
import { RELEASE_TARGETS, SUMS_FILE } from "../../scripts/release-targets.ts";
import { processResult } from "../helpers/process-result.ts";

export const ROOT = join(import.meta.dir, "..", "..");
export const DIST = join(ROOT, "dist");
export { RELEASE_TARGETS, SUMS_FILE };

/**
 * Runs `make release`'s script: the binaries are rebuilt only when a source file is newer, so
 * the test files that need dist/ share one build.
 */
export async function buildRelease(): Promise<void> {
  const proc = Bun.spawn([process.execPath, "run", join(ROOT, "scripts", "release.ts")], {
    cwd: ROOT,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const { stdout, stderr, code } = await processResult(proc);
  if (code !== 0) throw new Error(`release script exited with ${code}:\n${stdout}\n${stderr}`);
}
