// A throwaway self-signed certificate for the bench's TLS target (openssl, P-256, 127.0.0.1).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface BenchCertificate {
  readonly certFile: string;
  readonly keyFile: string;
}

export async function makeBenchCertificate(): Promise<BenchCertificate> {
  const dir = mkdtempSync(join(tmpdir(), "socket2web-bench-tls-"));
  const certFile = join(dir, "target.crt");
  const keyFile = join(dir, "target.key");
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
      "/CN=bench-target",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
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
  return { certFile, keyFile };
}
