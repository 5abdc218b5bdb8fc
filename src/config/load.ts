import {
  SETTINGS,
  type Setting,
  type SettingKey,
  type Settings,
  type SourceKind,
} from "./settings.ts";
import { type RawSettings, readConfigFile, readEnv, readFlags } from "./sources.ts";
import { UsageError } from "./usage-error.ts";

/** Where each effective value came from, for --print-config and for messages about it. */
export type Origins = Record<
  SettingKey,
  { readonly source: SourceKind | "default"; readonly label: string }
>;

export interface LoadedSettings {
  readonly settings: Settings;
  readonly origins: Origins;
}

/**
 * The effective settings: flag over environment over file over default. A list is taken whole
 * from the first source that sets it (a flag's --allow rules replace the file's). Every value is
 * validated, so an error names the source that gave it.
 */
export async function loadSettings(
  rawArgs: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<LoadedSettings> {
  const flags = readFlags(rawArgs);
  const environment = readEnv(env);
  const configPath = flags.config ?? environment.config;
  let file: RawSettings = {};
  if (configPath !== undefined) {
    const path = SETTINGS.config.parse(configPath.value as string, configPath.label);
    if (path !== undefined) file = readConfigFile(path, configPath.label);
  }
  const values: Record<string, unknown> = {};
  const origins: Partial<Origins> = {};
  for (const [key, setting] of Object.entries(SETTINGS) as [SettingKey, Setting][]) {
    const raw = flags[key] ?? environment[key] ?? file[key];
    if (raw === undefined) {
      values[key] =
        setting.kind === "value" ? setting.default : setting.kind === "list" ? [] : false;
      origins[key] = { source: "default", label: `--${key}` };
      continue;
    }
    origins[key] = { source: raw.source, label: raw.label };
    if (setting.kind === "value") {
      if (typeof raw.value !== "string")
        throw new UsageError(`${raw.label} expects a single value`);
      values[key] = setting.parse(raw.value, raw.label);
    } else {
      values[key] = raw.value;
    }
  }
  return { settings: values as Settings, origins: origins as Origins };
}
