/**
 * A Bun macro (imported `with { type: "macro" }`): runs while the code is bundled or
 * transpiled and leaves the console page's built assets inline as string literals.
 */
export interface PageAssets {
  readonly script: string;
  readonly style: string;
}

export function buildConsolePage(): PageAssets {
  const script = new URL("./build-page.ts", import.meta.url).pathname;
  const result = Bun.spawnSync([process.execPath, "run", script], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (result.exitCode !== 0) {
    throw new Error(`building the console page failed:\n${result.stderr.toString()}`);
  }
  return JSON.parse(result.stdout.toString()) as PageAssets;
}
