import type { ServerConfig } from "../server/config.ts";
import { SETTINGS, type Setting, type SettingKey, type Settings } from "./settings.ts";
import { UsageError } from "./usage-error.ts";

type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

type SecretKey = {
  [K in SettingKey]: (typeof SETTINGS)[K] extends { readonly secret: true } ? K : never;
}[SettingKey];

/** Every setting but the secrets, under its camel-cased key (`max-connections` → `maxConnections`). */
export type DerivedConfig = {
  readonly [K in Exclude<SettingKey, SecretKey> as CamelCase<K>]: Settings[K];
};

/** A ServerConfig field with no setting of its name, or of another type, is a compile error here. */
const derivesServerConfig = (config: DerivedConfig): ServerConfig => config;

export function camelCase(key: string): string {
  return key.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** The server's configuration, derived from the settings; checks that span settings are here. */
export function toServerConfig(settings: Settings): ServerConfig & DerivedConfig {
  const derived: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(SETTINGS) as [SettingKey, Setting][]) {
    if (setting.secret) continue;
    const value = settings[key];
    derived[camelCase(key)] =
      setting.kind === "value" && setting.effective ? setting.effective(value) : value;
  }
  const config = derived as DerivedConfig;
  if (config.workers > 1 && config.metrics) {
    throw new UsageError(
      "--metrics needs --workers 1: each worker would report only its own sessions",
    );
  }
  return { ...derivesServerConfig(config), ...config };
}
