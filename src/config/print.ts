import type { LoadedSettings } from "./load.ts";
import { SETTINGS, type Setting, type SettingKey } from "./settings.ts";

const MASK = "********";

/**
 * The effective configuration as TOML (it can be saved as a --config file), each line with the
 * source of its value. Secrets show only that they are set.
 */
export function formatSettings({ settings, origins }: LoadedSettings): string {
  const lines = ["# socket2web effective configuration (flag > environment > file > default)"];
  for (const [key, setting] of Object.entries(SETTINGS) as [SettingKey, Setting][]) {
    if (key === "config" || key === "print-config") continue;
    const value = settings[key];
    const origin = origins[key];
    const from = origin.source === "default" ? "default" : `from ${origin.label}`;
    const fileOnly = setting.sources !== undefined && !setting.sources.includes("file");
    if (value === undefined) {
      lines.push(`# ${key} is not set`);
      continue;
    }
    const shown = setting.secret ? JSON.stringify(MASK) : toml(value);
    // A setting a file cannot hold is shown as a comment, so the output stays a valid file; so is
    // an unset security list, since a file that gives one empty is refused.
    const unsetSecurity = setting.security === true && Array.isArray(value) && value.length === 0;
    lines.push(`${fileOnly || unsetSecurity ? "# " : ""}${key} = ${shown}  # ${from}`);
  }
  return `${lines.join("\n")}\n`;
}

function toml(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(toml).join(", ")}]`;
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}
