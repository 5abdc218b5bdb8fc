// Bundles the console page for the browser with Bun.build and prints it as JSON on stdout.
// Run by the `bundle.ts` macro (a macro may not call Bun.build itself), so the page is built
// into the executable by `bun build --compile` and on the fly when running from source.
import { readFileSync } from "node:fs";

const entry = new URL("./page/app.ts", import.meta.url).pathname;
const built = await Bun.build({
  entrypoints: [entry],
  target: "browser",
  format: "esm",
  minify: true,
});
if (!built.success || !built.outputs[0]) {
  console.error(built.logs.map(String).join("\n"));
  process.exit(1);
}
const script = await built.outputs[0].text();
const style = readFileSync(new URL("./page/styles.css", import.meta.url), "utf8");
process.stdout.write(JSON.stringify({ script, style }));
