import { accessSync, constants, mkdirSync, statSync } from "node:fs";
import { PolicyRuleError, parseRule } from "../policy/rule.ts";
import type { Origins } from "./load.ts";
import type { Settings } from "./settings.ts";
import { UsageError } from "./usage-error.ts";

/**
 * Checks the capture settings before anything listens: every --capture-filter rule parses, and
 * the --capture directory exists (created 0700 when missing) and can take files. Each problem is
 * a UsageError naming the setting's source.
 */
export function checkCapture(settings: Settings, origins: Origins): void {
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
  if (dir === undefined) return;
  const label = origins.capture.label;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!statSync(dir).isDirectory()) throw new Error("not a directory");
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`${label}: cannot write capture files into ${dir} (${reason})`);
  }
}
