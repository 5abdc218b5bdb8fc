import type { ServerConfig } from "../server/config.ts";
import { loadSettings } from "./load.ts";
import { toServerConfig } from "./server-config.ts";

/** The configuration of a server started with no flags, no environment and no file. */
export async function defaultServerConfig(): Promise<ServerConfig> {
  return toServerConfig((await loadSettings([], {})).settings);
}
