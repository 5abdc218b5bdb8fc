import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
}

/** A temporary directory for one test file's certificates, keys and config files. */
export function tempDir(prefix = "socket2web-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Removes a directory from `tempDir` and everything in it (keys and secrets must not linger). */
export function removeTempDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/**
 * A self-signed P-256 certificate for 127.0.0.1 and localhost, made by `openssl req -x509` in
 * `dir`; `name` becomes the subject CN so that tests can tell two certificates apart.
 */
export async function makeCertificate(dir: string, name: string): Promise<TestCertificate> {
  return selfSigned(dir, name, ["subjectAltName=IP:127.0.0.1,DNS:localhost"]);
}

/** A self-signed certificate authority (basicConstraints CA:TRUE), made by openssl in `dir`. */
export async function makeCertificateAuthority(
  dir: string,
  name: string,
): Promise<TestCertificate> {
  return selfSigned(dir, name, [
    "basicConstraints=critical,CA:TRUE",
    "keyUsage=critical,keyCertSign",
  ]);
}

/** A client certificate with subject CN `name`, signed by `ca` (from makeCertificateAuthority). */
export async function makeClientCertificate(
  dir: string,
  name: string,
  ca: TestCertificate,
): Promise<TestCertificate> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const requestFile = join(dir, `${name}.csr`);
  await openssl([
    "req",
    ...NEW_P256_KEY,
    "-subj",
    `/CN=${name}`,
    "-keyout",
    keyFile,
    "-out",
    requestFile,
  ]);
  await openssl(
    [
      "x509",
      "-req",
      "-in",
      requestFile,
      "-CA",
      ca.certFile,
      "-CAkey",
      ca.keyFile,
      "-set_serial",
      String(Date.now()),
      "-days",
      "1",
      "-extfile",
      "/dev/stdin",
      "-out",
      certFile,
    ],
    "extendedKeyUsage=clientAuth\n",
  );
  return { certFile, keyFile, cert: await Bun.file(certFile).text() };
}

const NEW_P256_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

async function selfSigned(
  dir: string,
  name: string,
  extensions: readonly string[],
): Promise<TestCertificate> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await openssl([
    "req",
    "-x509",
    ...NEW_P256_KEY,
    "-days",
    "1",
    "-subj",
    `/CN=${name}`,
    ...extensions.flatMap((extension) => ["-addext", extension]),
    "-keyout",
    keyFile,
    "-out",
    certFile,
  ]);
  return { certFile, keyFile, cert: await Bun.file(certFile).text() };
}

async function openssl(args: string[], input?: string): Promise<void> {
  const proc = Bun.spawn(["openssl", ...args], {
    stdin: input === undefined ? "ignore" : new TextEncoder().encode(input),
    stdout: "ignore",
    stderr: "pipe",
  });
  if ((await proc.exited) !== 0) {
    throw new Error(`openssl failed: ${await new Response(proc.stderr).text()}`);
  }
}
