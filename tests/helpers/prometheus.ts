import { processResult } from "./process-result.ts";

/**
 * Checks a Prometheus text exposition with the reference parser and linter (`promtool check
 * metrics`, from Debian's prometheus package: tests/setup/install-prometheus.sh), and more strictly
 * than Go's float parser, which takes `Nan`: every value must be spelled as the format spells it.
 */
export async function checkExposition(text: string): Promise<void> {
  const proc = Bun.spawn(["promtool", "check", "metrics"], {
    stdin: new TextEncoder().encode(text),
    stdout: "pipe",
    stderr: "pipe",
  });
  const { stdout, stderr, code } = await processResult(proc);
  if (code !== 0 || stdout.trim() || stderr.trim()) {
    throw new Error(`promtool check metrics (exit ${code}):\n${stdout}${stderr}`);
  }
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const value = line.slice(line.lastIndexOf(" ") + 1);
    if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$|^[+-]Inf$/.test(value)) {
      throw new Error(
        `sample value ${JSON.stringify(value)} is not a finite number or ±Inf: ${line}`,
      );
    }
  }
}

/** The samples of an exposition: `name{labels}` → value. */
export function samples(text: string): Map<string, number> {
  const result = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    result.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return result;
}

/** The value of one series, failing with the whole exposition when it is missing. */
export function sample(text: string, series: string): number {
  const value = samples(text).get(series);
  if (value === undefined) throw new Error(`no series ${series} in:\n${text}`);
  return value;
}
