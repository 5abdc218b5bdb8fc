#!/usr/bin/env bun
/**
 * Builds the `socket2web/client` export for the npm package (run by `npm pack` as `prepack`):
 * dist/client/index.js, one ES module for browsers, Bun and Node, and its .d.ts types.
 */
import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const OUT = join(ROOT, "dist", "client");

async function run(command: string[]): Promise<void> {
  const proc = Bun.spawn(command, { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`${command.join(" ")} exited with ${code}`);
}

/** Every .d.ts below `dir`. */
function declarations(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return declarations(path);
    return path.endsWith(".d.ts") ? [path] : [];
  });
}

rmSync(OUT, { recursive: true, force: true });
const built = await Bun.build({
  entrypoints: [join(ROOT, "src", "client", "index.ts")],
  outdir: OUT,
  target: "browser",
  format: "esm",
  sourcemap: "linked",
});
if (!built.success) throw new AggregateError(built.logs, "bun build of the client failed");
await run([join(ROOT, "node_modules", ".bin", "tsc"), "-p", "tsconfig.client.json"]);
// The sources import siblings as "./x.ts"; the published types sit beside no .ts file, so they
// name the declarations the way every module resolution finds them: "./x.js".
for (const path of declarations(join(OUT, "types"))) {
  const text = await Bun.file(path).text();
  await Bun.write(path, text.replace(/(from\s+["']\.{1,2}\/[^"']*?)\.ts(["'])/g, "$1.js$2"));
}
console.log(`built ${OUT}`);
