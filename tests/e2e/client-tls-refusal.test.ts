import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { clientCommand, runWithInput } from "../helpers/client-cli.ts";
import { type RunningProxy, startProxy } from "../helpers/proxy.ts";
import { makeCertificate, type TestCertificate, tempDir } from "../helpers/tls-cert.ts";

let dir: string;
let cert: TestCertificate;
let proxy: RunningProxy;
let plain: RunningProxy;

beforeAll(async () => {
  dir = tempDir("socket2web-client-tls-");
  cert = await makeCertificate(dir, "client-tls-refusal");
  proxy = await startProxy(["--tls-cert", cert.certFile, "--tls-key", cert.keyFile]);
  plain = await startProxy();
});

afterAll(async () => {
  await proxy.stop();
  await plain.stop();
  rmSync(dir, { recursive: true, force: true });
});

const connectTo = (server: string, ...extra: string[]) =>
  runWithInput(
    [...clientCommand(), "connect", "--server", server, "--target", "127.0.0.1:9", ...extra],
    null,
  );

describe("client modes against a wss:// server they cannot use", () => {
  test("an untrusted certificate is named, with --ca and --insecure as the ways out", async () => {
    const result = await connectTo(`wss://127.0.0.1:${proxy.port}`);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim()).toBe(
      `connect: the proxy at wss://127.0.0.1:${proxy.port}/: its certificate is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT); give its CA with --ca FILE, or --insecure for testing`,
    );
  });

  test("ws:// to a TLS server asks whether it is a wss:// server", async () => {
    const result = await connectTo(`ws://127.0.0.1:${proxy.port}`);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("(is it a wss:// server?)");
  });

  test("wss:// to a plain ws:// server asks whether it is a ws:// server, not about trust", async () => {
    const result = await connectTo(`wss://127.0.0.1:${plain.port}`);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim()).toBe(
      `connect: the proxy at wss://127.0.0.1:${plain.port}/: is it a ws:// server? It did not answer TLS (EPROTO)`,
    );
  });

  test.each([
    ["a file that is not PEM", "hello\n", "holds no PEM certificate (BEGIN CERTIFICATE)"],
    [
      "a PEM block that does not parse",
      "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
      "certificate 1 does not parse",
    ],
  ])("--ca with %s names the file's problem and exits 2", async (_, content, problem) => {
    const file = join(dir, "not-a-ca.pem");
    writeFileSync(file, content);
    const result = await connectTo(`wss://127.0.0.1:${proxy.port}`, "--ca", file);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`--ca file ${file}`);
    expect(result.stderr).toContain(problem);
  });

  test("with --ca the same server is reached (the target's refusal is what is left)", async () => {
    const result = await connectTo(`wss://127.0.0.1:${proxy.port}`, "--ca", cert.certFile);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("connect: connect_failed");
  });
});
