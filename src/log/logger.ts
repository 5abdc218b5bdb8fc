import { type ConsolaInstance, createConsola, LogLevels } from "consola";
import { jsonReporter, type LogStreams, withoutFields } from "./json-reporter.ts";

export { fields, LogFields, type LogFieldValues } from "./fields.ts";

export const LOG_LEVEL_NAMES = ["trace", "debug", "info", "warn", "error"] as const;
export type LogLevelName = (typeof LOG_LEVEL_NAMES)[number];

/** `text`: lines for people (consola's reporter). `json`: one object per line, for collectors. */
export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type Logger = ConsolaInstance;

/**
 * A consola logger at the given level. Text: colour only when stdout is a terminal and NO_COLOR
 * is unset. JSON: see json-reporter.ts. `streams` replaces stdout/stderr (tests).
 */
export function createLogger(
  level: LogLevelName,
  format: LogFormat = "text",
  streams: LogStreams = process,
): Logger {
  const colour = format === "text" && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  // `fancy` is in consola's Node entry; its published types resolve to the browser entry here.
  const options = {
    level: LogLevels[level],
    fancy: colour,
    formatOptions: { colors: colour, date: !colour, compact: true },
    stdout: streams.stdout,
    stderr: streams.stderr,
  };
  const logger = createConsola(options as unknown as Parameters<typeof createConsola>[0]);
  if (format === "json") return logger.setReporters([jsonReporter(streams)]);
  return logger.setReporters(logger.options.reporters.map(withoutFields));
}

/** Bytes as a human figure for log lines. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
