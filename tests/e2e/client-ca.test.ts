import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { runStartupError, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import {
  makeCertificate,
  makeCertificateAuthority,
  makeClientCertificate,
  removeTempDir,
  type TestCertificate,
  tempDir,
} from "../helpers/tls-cert.ts";
import { connectThrough } from "../helpers/ws-client.ts";

// --client-ca: the TLS handshake itself refuses a client without a certificate from the CA.

let echo: TcpTarget;
let dir: string;
let server: TestCertificate;
let trusted: TestCertificate;
let other: TestCertificate;
let good: TestCertificate;
let foreign: TestCertificate;
beforeAll(async () => {
  echo = startTcpTarget("echo");
  dir = tempDir();
  server = await makeCertificate(dir, "server");
  trusted = await makeCertificateAuthority(dir, "trusted-ca");
  other = await makeCertificateAuthority(dir, "other-ca");
  good = await makeClientCertificate(dir, "good-client", trusted);
  // Same subject as the good one, signed by another CA.
  foreign = await makeClientCertificate(dir, "foreign-client", other);
});
afterAll(() => {
  echo.stop();
  removeTempDir(dir);
});

const tcp = () => ({ protocol: "tcp", target_ip: "127.0.0.1", target_port: echo.port });

type Outcome = "upgraded" | "refused" | "no answer";

/**
 * One TLS connection that sends a WebSocket upgrade: "upgraded" if the server answers 101,
 * "refused" if the handshake fails or the connection ends without it.
 */
async function attempt(port: number, client: TestCertificate | undefined): Promise<Outcome> {
  const { promise, resolve } = Promise.withResolvers<Outcome>();
  const timer = setTimeout(() => resolve("no answer"), 10_000);
  let answer = "";
  try {
    await Bun.connect({
      hostname: "127.0.0.1",
      port,
      tls: {
        ca: server.cert,
        ...(client ? { cert: client.cert, key: await Bun.file(client.keyFile).text() } : {}),
      },
      socket: {
        handshake(socket, ok) {
          if (!ok) {
            resolve("refused");
            socket.end();
            return;
          }
          socket.write(
            "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
          );
        },
        data(socket, bytes) {
          answer += bytes.toString();
          if (answer.includes("\r\n")) {
            resolve(answer.startsWith("HTTP/1.1 101") ? "upgraded" : "refused");
            socket.end();
          }
        },
        close: () => resolve("refused"),
        error: () => resolve("refused"),
        connectError: () => resolve("refused"),
      },
    });
  } catch {
    resolve("refused");
  }
  const outcome = await promise;
  clearTimeout(timer);
  return outcome;
}

/** `count` attempts, `parallel` at a time; the outcomes counted. */
async function attempts(
  port: number,
  client: TestCertificate | undefined,
  count: number,
  parallel = 20,
): Promise<Record<Outcome, number>> {
  const tally: Record<Outcome, number> = { upgraded: 0, refused: 0, "no answer": 0 };
  for (let done = 0; done < count; done += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - done) }, () =>
      attempt(port, client),
    );
    for (const outcome of await Promise.all(batch)) tally[outcome]++;
  }
  return tally;
}

describe("--client-ca", () => {
  test("200 handshakes with another CA's certificate and 200 with none are all refused; a good one relays", async () => {
    const proxy = await startProxy([
      "--tls-cert",
      server.certFile,
      "--tls-key",
      server.keyFile,
      "--client-ca",
      trusted.certFile,
    ]);
    try {
      expect(await attempts(proxy.port, foreign, 200)).toEqual({
        upgraded: 0,
        refused: 200,
        "no answer": 0,
      });
      expect(await attempts(proxy.port, undefined, 200)).toEqual({
        upgraded: 0,
        refused: 200,
        "no answer": 0,
      });
      // The CA's own certificate is no client certificate of it either.
      expect(await attempts(proxy.port, other, 5)).toMatchObject({ upgraded: 0 });
      expect(await attempts(proxy.port, good, 1)).toEqual({
        upgraded: 1,
        refused: 0,
        "no answer": 0,
      });
      const tls = { ca: server.cert, cert: good.cert, key: await Bun.file(good.keyFile).text() };
      const { client, status } = await connectThrough(`wss://127.0.0.1:${proxy.port}`, tcp(), {
        tls,
      });
      expect(status.status).toBe("connected");
      client.send("with a client certificate");
      expect(new TextDecoder().decode(await client.readBytes(25))).toBe(
        "with a client certificate",
      );
      client.close();
    } finally {
      await proxy.stop();
    }
  }, 120_000);

  test("SIGHUP re-reads the CA file with the certificate: the new CA's clients get in, the old one's no longer", async () => {
    const caFile = join(dir, "live-ca.crt");
    copyFileSync(trusted.certFile, caFile);
    const proxy = await startProxy([
      "--tls-cert",
      server.certFile,
      "--tls-key",
      server.keyFile,
      "--client-ca",
      caFile,
    ]);
    try {
      expect(await attempts(proxy.port, good, 3)).toMatchObject({ upgraded: 3 });
      expect(await attempts(proxy.port, foreign, 3)).toMatchObject({ refused: 3 });
      copyFileSync(other.certFile, caFile);
      proxy.proc.kill("SIGHUP");
      await proxy.waitForOutput("reloaded the TLS certificate");
      expect(await attempts(proxy.port, foreign, 3)).toMatchObject({ upgraded: 3 });
      expect(await attempts(proxy.port, good, 3)).toMatchObject({ refused: 3 });
    } finally {
      await proxy.stop();
    }
  });

  test("without --client-ca a client certificate is neither needed nor refused", async () => {
    const proxy = await startProxy(["--tls-cert", server.certFile, "--tls-key", server.keyFile]);
    try {
      expect(await attempts(proxy.port, undefined, 3)).toMatchObject({ upgraded: 3 });
      expect(await attempts(proxy.port, foreign, 3)).toMatchObject({ upgraded: 3 });
    } finally {
      await proxy.stop();
    }
  });

  test("start-up errors: no TLS to ask in, a file that is not a CA", async () => {
    const noTls = await runStartupError(["--client-ca", trusted.certFile]);
    expect(noTls.code).toBe(2);
    expect(noTls.stderr).toContain(
      "--client-ca needs --tls-cert and --tls-key: client certificates are asked for in wss's TLS handshake",
    );
    const leaf = await runStartupError([
      "--tls-cert",
      server.certFile,
      "--tls-key",
      server.keyFile,
      "--client-ca",
      good.certFile,
    ]);
    expect(leaf.code).toBe(2);
    expect(leaf.stderr).toContain(
      `--client-ca file ${good.certFile} holds a certificate that is not a CA (CN=good-client)`,
    );
    const key = await runStartupError([
      "--tls-cert",
      server.certFile,
      "--tls-key",
      server.keyFile,
      "--client-ca",
      good.keyFile,
    ]);
    expect(key.code).toBe(2);
    expect(key.stderr).toContain(
      `--client-ca file ${good.keyFile} holds something other than PEM certificates`,
    );
  });
});
