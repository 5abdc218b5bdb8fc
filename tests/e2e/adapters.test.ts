import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startStreamTarget, startUdpTarget } from "../contract/targets.ts";
import { clientCommand, runWithInput, startForward } from "../helpers/client-cli.ts";
import { type RunningProxy, runStartupError, startProxy } from "../helpers/proxy.ts";
import { makeCertificate, type TestCertificate, tempDir } from "../helpers/tls-cert.ts";
import { connectThrough, openClient } from "../helpers/ws-client.ts";

// The proxy process (source or compiled binary) with every adapter on: tls trusting a test CA,
// unix below a temporary directory.
let dir = "";
let sockets = "";
let certificate: TestCertificate;
let proxy: RunningProxy;
let tlsTarget: ReturnType<typeof startStreamTarget>;
let unixTarget: ReturnType<typeof startStreamTarget>;
let udpTarget: Awaited<ReturnType<typeof startUdpTarget>>;
const unixPath = () => join(sockets, "echo.sock");

beforeAll(async () => {
  dir = tempDir("s2w-adapters-");
  sockets = join(dir, "sockets");
  mkdirSync(sockets);
  certificate = await makeCertificate(dir, "target");
  const key = await Bun.file(certificate.keyFile).text();
  tlsTarget = startStreamTarget({ port: 0, tls: { cert: certificate.cert, key } }, "echo");
  unixTarget = startStreamTarget({ unix: unixPath() }, "echo");
  udpTarget = await startUdpTarget("echo");
  proxy = await startProxy(["--allow-unix", sockets, "--tls-target-ca", certificate.certFile]);
});

afterAll(async () => {
  await proxy?.stop();
  await tlsTarget?.stop();
  await unixTarget?.stop();
  await udpTarget?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the server process with every adapter on", () => {
  test("the greeting lists tcp, tls, udp and unix with their fields; the start-up log names them", async () => {
    const client = await openClient(proxy.url);
    const greeting = await client.nextJson();
    const protocols = greeting["supported protocols"] as Record<string, Record<string, string>>;
    expect(Object.keys(protocols)).toEqual(["tcp", "tls", "udp", "unix"]);
    expect(Object.keys(protocols.tls ?? {})).toEqual(["target_ip", "target_port", "server_name"]);
    expect(Object.keys(protocols.udp ?? {})).toEqual(["target_ip", "target_port"]);
    expect(Object.keys(protocols.unix ?? {})).toEqual(["target_path"]);
    expect(proxy.output()).toContain("protocols: tcp, tls, udp, unix");
    client.close();
  });

  test.each([
    ["tls", () => ({ target_ip: "127.0.0.1", target_port: tlsTarget.port })],
    [
      "tls by name (SNI localhost)",
      () => ({ target_ip: "localhost", target_port: tlsTarget.port }),
    ],
    ["unix", () => ({ target_path: unixPath() })],
    ["udp", () => ({ target_ip: "127.0.0.1", target_port: udpTarget.port })],
  ])("%s: connected, and bytes go there and back", async (name, fields) => {
    const protocol = name.split(" ")[0] as string;
    const { client, status } = await connectThrough(proxy.url, { protocol, ...fields() });
    expect(status).toEqual({ status: "connected", protocol, ...fields() });
    client.send("ping through the proxy");
    expect(new TextDecoder().decode(await client.readBytes(22))).toBe("ping through the proxy");
    client.close();
  });
});

describe("client modes take the protocol and its fields", () => {
  test("connect --protocol udp: stdin goes out as datagrams, the answers come back", async () => {
    const result = await runWithInput(
      [
        ...clientCommand(),
        "connect",
        "--server",
        proxy.url,
        "--protocol",
        "udp",
        "--target",
        `127.0.0.1:${udpTarget.port}`,
      ],
      new TextEncoder().encode("one datagram"),
    );
    expect(result.stderr).toBe("");
    expect(new TextDecoder().decode(result.stdout)).toBe("one datagram");
    expect(result.exitCode).toBe(0);
  });

  test("connect --target unix:/path reaches the unix socket", async () => {
    const result = await runWithInput(
      [...clientCommand(), "connect", "--server", proxy.url, "--target", `unix:${unixPath()}`],
      new TextEncoder().encode("over a unix socket"),
    );
    expect(new TextDecoder().decode(result.stdout)).toBe("over a unix socket");
    expect(result.exitCode).toBe(0);
  });

  test("forward --protocol tls --field server_name: a local port to a TLS target", async () => {
    const forward = await startForward([
      "--server",
      proxy.url,
      "--protocol",
      "tls",
      "--target",
      `127.0.0.1:${tlsTarget.port}`,
      "--field",
      "server_name=localhost",
    ]);
    try {
      const received: Uint8Array[] = [];
      let resolveEcho: () => void = () => {};
      const echoed = new Promise<void>((resolve) => {
        resolveEcho = resolve;
      });
      const socket = await Bun.connect({
        hostname: "127.0.0.1",
        port: forward.port,
        socket: {
          data(_socket, chunk) {
            received.push(chunk);
            if (Buffer.concat(received).byteLength >= 9) resolveEcho();
          },
        },
      });
      socket.write("tls hello");
      await echoed;
      expect(Buffer.concat(received).toString()).toBe("tls hello");
      socket.end();
    } finally {
      await forward.stop();
    }
  });
});

describe("adapter settings at start-up", () => {
  test("--tls-target-ca with a file that holds no certificate exits 2 naming the flag", async () => {
    const bad = join(dir, "not-a-ca.pem");
    writeFileSync(bad, "hello\n");
    const run = await runStartupError(["--tls-target-ca", bad]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      `socket2web: --tls-target-ca file ${bad} holds no PEM certificate (BEGIN CERTIFICATE)`,
    );
  });

  test("SOCKET2WEB_ALLOW_UNIX turns unix on, as the flag does", async () => {
    const viaEnv = await startProxy([], { SOCKET2WEB_ALLOW_UNIX: sockets });
    try {
      const { client, status } = await connectThrough(viaEnv.url, {
        protocol: "unix",
        target_path: unixPath(),
      });
      expect(status.status).toBe("connected");
      client.close();
    } finally {
      await viaEnv.stop();
    }
  });

  test("without --tls-target-ca the test CA is not trusted: connect_failed names the TLS error", async () => {
    const plain = await startProxy([]);
    try {
      const { status } = await connectThrough(plain.url, {
        protocol: "tls",
        target_ip: "127.0.0.1",
        target_port: tlsTarget.port,
      });
      expect(status).toMatchObject({ status: "error", error: "connect_failed" });
      expect(String(status.reason)).toContain("DEPTH_ZERO_SELF_SIGNED_CERT");
    } finally {
      await plain.stop();
    }
  });
});
