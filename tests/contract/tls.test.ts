import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { createServer, type Server as TlsServer } from "node:tls";
import { sha256 } from "../helpers/bytes.ts";
import { freePort } from "../helpers/ports.ts";
import { makeCertificate, type TestCertificate, tempDir } from "../helpers/tls-cert.ts";
import { openSession, testAdapter } from "./adapter.ts";
import { type ContractProxy, startContractProxy } from "./proxy.ts";
import { startGate, startStreamTarget } from "./targets.ts";

let dir = "";
let certificate: TestCertificate;
const keyOf = async () => Bun.file(certificate.keyFile).text();

testAdapter({
  protocol: "tls",
  transport: "stream",
  fields: [{ name: "target_ip" }, { name: "target_port" }, { name: "server_name", optional: true }],
  async setup() {
    dir = tempDir();
    certificate = await makeCertificate(dir, "tls-target");
    return { tlsTargetCa: certificate.cert };
  },
  async teardown() {
    rmSync(dir, { recursive: true, force: true });
  },
  async startTarget(mode) {
    const tls = { cert: certificate.cert, key: await keyOf() };
    const target = startStreamTarget({ port: 0, tls }, mode);
    return { ...target, fields: { target_ip: "127.0.0.1", target_port: target.port } };
  },
  refusedFields: async () => ({ target_ip: "127.0.0.1", target_port: await freePort() }),
  refusal: { kind: "status", reason: /^connect ECONNREFUSED 127\.0\.0\.1:\d+$/ },
  async startPendingTarget() {
    const tls = { cert: certificate.cert, key: await keyOf() };
    const backend = startStreamTarget({ port: 0, tls }, "quiet");
    const gate = startGate(backend.port);
    return {
      fields: { target_ip: "127.0.0.1", target_port: gate.port },
      release: gate.release,
      async delivered(timeoutMs = 10_000) {
        const peer = await backend.nextPeer(timeoutMs);
        return sha256(await peer.ended);
      },
      async stop() {
        gate.stop();
        await backend.stop();
      },
    };
  },
  invalid: [
    ["target_ip", "999.1.1.1", "not a valid IPv4 address"],
    ["target_port", 0, "target_port must be an integer from 1 to 65535"],
    ["server_name", "127.0.0.1", "server_name must be a host name, not an IP address"],
    ["server_name", "bad_name!", "is not a valid host name"],
  ],
});

/** A node:tls echo server that records the SNI name each client sent. */
async function sniTarget(cert: string, key: string) {
  const names: (string | false | null)[] = [];
  const sockets = new Set<{ destroy(): void }>();
  const server: TlsServer = createServer({ cert, key }, (socket) => {
    names.push(socket.servername);
    socket.pipe(socket);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    names,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe("tls: its own cases", () => {
  let trusted: ContractProxy;
  let untrusted: ContractProxy;
  let insecure: ContractProxy;
  let target: Awaited<ReturnType<typeof sniTarget>>;
  beforeAll(async () => {
    trusted = await startContractProxy({ tlsTargetCa: certificate.cert });
    untrusted = await startContractProxy({});
    insecure = await startContractProxy({ tlsTargetInsecure: true });
    target = await sniTarget(certificate.cert, await keyOf());
  });
  afterAll(async () => {
    await target.stop();
    for (const proxy of [trusted, untrusted, insecure]) await proxy.stop();
  });

  const tlsTo = (fields: Record<string, unknown>) => ({
    protocol: "tls",
    target_port: target.port,
    ...fields,
  });

  test("SNI: a host-name target sends its name; server_name overrides it; an IP target sends none", async () => {
    const byName = await openSession(trusted.url, tlsTo({ target_ip: "localhost" }));
    expect(byName.status.status).toBe("connected");
    const byServerName = await openSession(
      trusted.url,
      tlsTo({ target_ip: "127.0.0.1", server_name: "LocalHost." }),
    );
    expect(byServerName.status.status).toBe("connected");
    const byIp = await openSession(trusted.url, tlsTo({ target_ip: "127.0.0.1" }));
    expect(byIp.status.status).toBe("connected");
    // The server hears of the session a moment after the client does.
    for (let i = 0; i < 200 && target.names.length < 3; i++) await Bun.sleep(5);
    expect(target.names).toEqual(["localhost", "localhost", false]);
    for (const { client } of [byName, byServerName, byIp]) client.close();
  });

  test("a server_name the certificate does not name: connect_failed naming the TLS error", async () => {
    const { client, status } = await openSession(
      trusted.url,
      tlsTo({ target_ip: "127.0.0.1", server_name: "other.test" }),
    );
    expect(status).toMatchObject({ status: "error", error: "connect_failed" });
    expect(String(status.reason)).toMatch(
      /^TLS handshake with 127\.0\.0\.1:\d+ failed: ERR_TLS_CERT_ALTNAME_INVALID /,
    );
    expect(await client.closed).toEqual({ code: 4502, reason: "connect_failed" });
  });

  test("an IP target is verified against the address: a certificate without it fails", async () => {
    // The certificate names 127.0.0.1 and localhost, not ::1.
    const onV6 = Bun.listen({
      hostname: "::1",
      port: 0,
      tls: { cert: certificate.cert, key: await keyOf() },
      socket: { data() {} },
    });
    try {
      const { status } = await openSession(
        trusted.url,
        tlsTo({ target_ip: "::1", target_port: onV6.port }),
      );
      expect(status).toMatchObject({ status: "error", error: "connect_failed" });
      expect(String(status.reason)).toContain("ERR_TLS_CERT_ALTNAME_INVALID");
    } finally {
      onV6.stop(true);
    }
  });

  test("a self-signed certificate without --tls-target-ca: connect_failed naming the TLS error", async () => {
    const { client, status } = await openSession(untrusted.url, tlsTo({ target_ip: "127.0.0.1" }));
    expect(status).toMatchObject({ status: "error", error: "connect_failed" });
    expect(String(status.reason)).toMatch(/failed: DEPTH_ZERO_SELF_SIGNED_CERT /);
    expect(await client.closed).toEqual({ code: 4502, reason: "connect_failed" });
  });

  test("--tls-target-insecure connects without verifying, and carries bytes", async () => {
    const { client, status } = await openSession(
      insecure.url,
      tlsTo({ target_ip: "127.0.0.1", server_name: "other.test" }),
    );
    expect(status.status).toBe("connected");
    client.send("through TLS");
    expect(new TextDecoder().decode(await client.readBytes(11))).toBe("through TLS");
    client.close();
  });

  test("a handshake field cannot turn verification off", async () => {
    const { status } = await openSession(
      untrusted.url,
      tlsTo({ target_ip: "127.0.0.1", insecure: true, rejectUnauthorized: false, verify: false }),
    );
    expect(status).toMatchObject({ status: "error", error: "connect_failed" });
  });

  test("a target that is not TLS at all: connect_failed, not a hang", async () => {
    const plain = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(socket) {
          socket.end();
        },
      },
    });
    try {
      const { status } = await openSession(
        trusted.url,
        tlsTo({ target_ip: "127.0.0.1", target_port: plain.port }),
      );
      expect(status).toMatchObject({ status: "error", error: "connect_failed" });
      expect(String(status.reason)).toStartWith(
        `TLS handshake with 127.0.0.1:${plain.port} failed`,
      );
    } finally {
      plain.stop(true);
    }
  });

  test("the policy applies to tls as to tcp", async () => {
    const { status } = await openSession(trusted.url, tlsTo({ target_ip: "169.254.169.254" }));
    expect(status).toMatchObject({ status: "error", error: "forbidden" });
  });
});
