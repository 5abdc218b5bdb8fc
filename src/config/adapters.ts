import { createAdapters } from "../adapters/index.ts";
import type { AnyProtocolAdapter } from "../adapters/types.ts";
import { readCertificates } from "./certificates.ts";
import type { Origins } from "./load.ts";
import type { Settings } from "./settings.ts";
import { UsageError } from "./usage-error.ts";

/** The adapters the settings turn on, with their files loaded and checked before anything listens. */
export function loadAdapters(settings: Settings, origins: Origins): AnyProtocolAdapter[] {
  const allowUnix = settings["allow-unix"];
  for (const prefix of allowUnix) {
    if (prefix.trim() === "") {
      throw new UsageError(`${origins["allow-unix"].label} expects a path, got an empty one`);
    }
  }
  const caFile = settings["tls-target-ca"];
  const tlsTargetCa =
    caFile === undefined ? undefined : readCertificates(caFile, origins["tls-target-ca"].label);
  return createAdapters({
    allowUnix,
    tlsTargetInsecure: settings["tls-target-insecure"],
    ...(tlsTargetCa === undefined ? {} : { tlsTargetCa }),
  });
}
