import { createPrivateKey, X509Certificate } from "node:crypto";
import { readSmallFile, SmallFileError } from "../process/small-file.ts";

/** PEM certificate chain and private key, as Bun.serve's `tls` takes them. */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  /** `--client-ca`: clients must present a certificate these CAs signed. */
  readonly ca?: string;
}

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** How errors name each file's setting: `--tls-cert`, `SOCKET2WEB_TLS_CERT`, … */
  readonly certLabel?: string;
  readonly keyLabel?: string;
  readonly caFile?: string;
  readonly caLabel?: string;
}

export class TlsLoadError extends Error {
  override readonly name = "TlsLoadError";
}

/**
 * Reads and checks the PEM files, so that a bad file is a clear start-up (or reload) error
 * rather than a listener that fails every handshake. Never includes file contents in errors.
 */
export async function loadTls({
  certFile,
  keyFile,
  certLabel = "--tls-cert",
  keyLabel = "--tls-key",
  caFile,
  caLabel = "--client-ca",
}: TlsFiles): Promise<TlsMaterial> {
  const cert = await readPem(certFile, certLabel);
  const key = await readPem(keyFile, keyLabel);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw new TlsLoadError(`${certLabel} file ${certFile} holds no PEM certificate`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new TlsLoadError(`${keyLabel} file ${keyFile} holds no PEM private key`);
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new TlsLoadError(
      `${keyLabel} file ${keyFile} does not match the certificate in ${certFile}`,
    );
  }
  if (caFile === undefined) return { cert, key };
  return { cert, key, ca: await readCa(caFile, caLabel) };
}

/** Every PEM block must be a CA certificate: a leaf or a key here is the wrong file. */
async function readCa(file: string, label: string): Promise<string> {
  const ca = await readPem(file, label);
  const blocks = ca.match(/-----BEGIN [^-]+-----[\s\S]*?-----END [^-]+-----/g) ?? [];
  if (blocks.length === 0) throw new TlsLoadError(`${label} file ${file} holds no PEM certificate`);
  for (const block of blocks) {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(block);
    } catch {
      throw new TlsLoadError(`${label} file ${file} holds something other than PEM certificates`);
    }
    if (!certificate.ca) {
      throw new TlsLoadError(
        `${label} file ${file} holds a certificate that is not a CA (${certificate.subject.replaceAll("\n", ", ")})`,
      );
    }
  }
  return ca;
}

async function readPem(path: string, flag: string): Promise<string> {
  try {
    return readSmallFile(path, flag);
  } catch (error) {
    if (error instanceof SmallFileError) throw new TlsLoadError(error.message);
    throw error;
  }
}
