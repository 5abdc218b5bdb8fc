import { accessSync, constants, existsSync, mkdirSync, statSync } from "node:fs";
import { PolicyRuleError, parseRule } from "../policy/rule.ts";
import type { Origins } from "./load.ts";
import type { Settings } from "./settings.ts";
import { UsageError } from "./usage-error.ts";

/**
 * Checks the capture settings before anything listens: every --capture-filter rule parses, and
 * the --capture directory exists (created 0700 when missing) and can take files. Each problem is
 * a UsageError naming the setting's source. Returns the warnings to log at start: a directory
 * that already existed open to its group or to others is used as it is, but said so.
 */
export function checkCapture(settings: Settings, origins: Origins): string[] {
  const filterLabel = origins["capture-filter"].label;
  for (const text of settings["capture-filter"]) {
    try {
      parseRule(text);
    } catch (error) {
      if (error instanceof PolicyRuleError)
        throw new UsageError(`${filterLabel}: ${error.message}`);
      throw error;
    }
  }
  const dir = settings.capture;
  if (dir === undefined) return [];
  const label = origins.capture.label;
  const existed = existsSync(dir);
  let mode: number;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const info = statSync(dir);
    if (!info.isDirectory()) throw new Error("not a directory");
    accessSync(dir, constants.W_OK | constants.X_OK);
    mode = info.mode & 0o777;
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`${label}: cannot write capture files into ${dir} (${reason})`);
  }
  if (!existed || (mode & 0o077) === 0) return [];
  return [
    `${label}: the capture directory ${dir} is mode ${mode.toString(8).padStart(4, "0")}: its group or` +
      " others may list it (and, if writable, replace files in it) while it holds every captured" +
      ` session's payload; files are written 0600, but consider chmod 700 ${dir}`,
  ];
}
