import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { runStartupError, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import {
  makeCertificate,
  removeTempDir,
  type TestCertificate,
  tempDir,
} from "../helpers/tls-cert.ts";
import { connectThrough, openClient } from "../helpers/ws-client.ts";

let echo: TcpTarget;
let dir: string;
let first: TestCertificate;
let second: TestCertificate;
beforeAll(async () => {
  echo = startTcpTarget("echo");
  dir = tempDir();
  first = await makeCertificate(dir, "first");
  second = await makeCertificate(dir, "second");
});
afterAll(() => {
  echo.stop();
  removeTempDir(dir);
});

const tcp = () => ({ protocol: "tcp", target_ip: "127.0.0.1", target_port: echo.port });
const wss = (port: number) => `wss://127.0.0.1:${port}`;

/** The subject CN of the certificate the server presents to a new connection. */
async function servedName(port: number): Promise<string> {
  const { promise, resolve, reject } = Promise.withResolvers<string>();
  await Bun.connect({
    hostname: "127.0.0.1",
    port,
    tls: { ca: first.cert + second.cert },
    socket: {
      handshake(socket, ok, error) {
        if (!ok) reject(error);
        else resolve(String(socket.getPeerCertificate()?.subject?.CN));
        socket.end();
      },
      data() {},
      error: (_socket, error) => reject(error),
    },
  });
  return promise;
}

describe("wss:// with --tls-cert and --tls-key", () => {
  test("serves TLS with the certificate and relays bytes; plain ws:// is not served", async () => {
    const proxy = await startProxy(["--tls-cert", first.certFile, "--tls-key", first.keyFile]);
    expect(proxy.output()).toContain(`listening on wss://127.0.0.1:${proxy.port}`);
    const { client, status } = await connectThrough(wss(proxy.port), tcp(), {
      tls: { ca: first.cert },
    });
    expect(status.status).toBe("connected");
    client.send("over tls");
    expect(new TextDecoder().decode(await client.readBytes(8))).toBe("over tls");
    client.close();
    // A client that does not trust the certificate does not connect.
    await expect(
      openClient(wss(proxy.port), undefined, { tls: { ca: second.cert } }),
    ).rejects.toThrow();
    await expect(openClient(proxy.url)).rejects.toThrow();
    await proxy.stop();
  });

  test("SIGHUP: new connections get the new certificate while an old session keeps working", async () => {
    const certFile = join(dir, "live.crt");
    const keyFile = join(dir, "live.key");
    copyFileSync(first.certFile, certFile);
    copyFileSync(first.keyFile, keyFile);
    const proxy = await startProxy(["--tls-cert", certFile, "--tls-key", keyFile]);
    expect(await servedName(proxy.port)).toBe("first");
    const old = await connectThrough(wss(proxy.port), tcp(), { tls: { ca: first.cert } });
    expect(old.status.status).toBe("connected");

    copyFileSync(second.certFile, certFile);
    copyFileSync(second.keyFile, keyFile);
    proxy.proc.kill("SIGHUP");
    await proxy.waitForOutput("reloaded the TLS certificate");

    for (let i = 0; i < 5; i++) expect(await servedName(proxy.port)).toBe("second");
    const fresh = await connectThrough(wss(proxy.port), tcp(), { tls: { ca: second.cert } });
    expect(fresh.status.status).toBe("connected");
    for (const session of [old, fresh]) {
      session.client.send("still here");
      expect(new TextDecoder().decode(await session.client.readBytes(10))).toBe("still here");
    }
    // A client that trusts only the old certificate can no longer connect.
    await expect(
      openClient(wss(proxy.port), undefined, { tls: { ca: first.cert } }),
    ).rejects.toThrow();

    // A broken file on the next reload keeps the current certificate.
    await Bun.write(certFile, "not a certificate");
    proxy.proc.kill("SIGHUP");
    await proxy.waitForOutput("kept the old TLS certificate");
    expect(await servedName(proxy.port)).toBe("second");
    old.client.send("after");
    expect(new TextDecoder().decode(await old.client.readBytes(5))).toBe("after");

    old.client.close();
    fresh.client.close();
    expect(await proxy.stop()).toBe(0);
  });

  test.each([
    [
      ["--tls-cert", "/nonexistent.crt", "--tls-key", "/nonexistent.key"],
      /cannot read --tls-cert file \/nonexistent\.crt: ENOENT/,
    ],
    [["--tls-cert", "CERT"], /--tls-cert needs --tls-key too/],
    [["--tls-cert", "KEY", "--tls-key", "KEY"], /--tls-cert file .* holds no PEM certificate/],
    [["--tls-cert", "CERT", "--tls-key", "OTHERKEY"], /does not match the certificate/],
  ])("bad TLS files are a start-up error: %p", async (args, message) => {
    const resolved = args.map((arg) =>
      arg === "CERT"
        ? first.certFile
        : arg === "KEY"
          ? first.keyFile
          : arg === "OTHERKEY"
            ? second.keyFile
            : arg,
    );
    const { stderr, code } = await runStartupError(resolved);
    expect(code).toBe(2);
    expect(stderr.trim()).toMatch(message);
    expect(stderr.trim().split("\n")).toHaveLength(1);
  });
});
