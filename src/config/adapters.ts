import { X509Certificate } from "node:crypto";
import { createAdapters } from "../adapters/index.ts";
import type { AnyProtocolAdapter } from "../adapters/types.ts";
import type { Origins } from "./load.ts";
import { readSmallFile } from "./read-file.ts";
import type { Settings } from "./settings.ts";
import { UsageError } from "./usage-error.ts";

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

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

/** A PEM file of one or more certificates; anything else would fail every tls session later. */
function readCertificates(path: string, label: string): string {
  const text = readSmallFile(path, label);
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    throw new UsageError(`${label} file ${path} holds no PEM certificate (BEGIN CERTIFICATE)`);
  }
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new UsageError(
        `${label} file ${path}: certificate ${index + 1} does not parse (${(error as Error).message})`,
      );
    }
  }
  return blocks.join("\n");
}
