import { type ConsolaInstance, createConsola, LogLevels } from "consola";

export const LOG_LEVEL_NAMES = ["trace", "debug", "info", "warn", "error"] as const;
export type LogLevelName = (typeof LOG_LEVEL_NAMES)[number];

export type Logger = ConsolaInstance;

/** A consola logger at the given level; colour only when stdout is a terminal and NO_COLOR is unset. */
export function createLogger(level: LogLevelName): Logger {
  const colour = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  // `fancy` is in consola's Node entry; its published types resolve to the browser entry here.
  const options = {
    level: LogLevels[level],
    fancy: colour,
    formatOptions: { colors: colour, date: !colour, compact: true },
  };
  return createConsola(options as Parameters<typeof createConsola>[0]);
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
