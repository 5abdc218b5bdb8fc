import type { ArgDef, ArgsDef } from "citty";
import { SETTINGS, type Setting } from "../config/settings.ts";

function argOf(setting: Setting): ArgDef {
  if (setting.kind === "switch") return { type: "boolean", description: setting.description };
  const def: ArgDef = { type: "string", valueHint: setting.hint, description: setting.description };
  if (setting.kind === "value" && setting.default !== undefined) {
    return { ...def, default: String(setting.default) };
  }
  return def;
}

/**
 * The server's flags for citty, generated from the settings table: --help lists them and citty
 * knows which take a value. Values are read and validated by src/config, not from citty's args
 * (citty keeps only the last of a repeated flag and cannot tell a default from a given value).
 */
export const serverArgs: ArgsDef = Object.fromEntries(
  Object.entries(SETTINGS)
    .filter(([, setting]) => setting.sources?.includes("flag") ?? true)
    .map(([key, setting]) => [key, argOf(setting)]),
);
