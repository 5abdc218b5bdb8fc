import { X509Certificate } from "node:crypto";
import { readSmallFile } from "./read-file.ts";
import { UsageError } from "./usage-error.ts";

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/**
 * A PEM file of one or more certificates (`--tls-target-ca`, the client's `--ca`), checked at
 * start-up: anything else would fail every TLS connection later with a vaguer error.
 */
export function readCertificates(path: string, label: string): string {
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
