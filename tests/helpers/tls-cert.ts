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
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const proc = Bun.spawn(
    [
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "1",
      "-subj",
      `/CN=${name}`,
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ],
    { stdout: "ignore", stderr: "pipe" },
  );
  if ((await proc.exited) !== 0) {
    throw new Error(`openssl failed: ${await new Response(proc.stderr).text()}`);
  }
  return { certFile, keyFile, cert: await Bun.file(certFile).text() };
}
