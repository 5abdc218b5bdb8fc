import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "../helpers/bytes.ts";
import { openRawClient } from "../helpers/raw-ws.ts";
import { openSession, testAdapter } from "./adapter.ts";
import { type ContractProxy, startContractProxy } from "./proxy.ts";
import { startUdpTarget } from "./targets.ts";

/** A UDP port nothing is bound to: a datagram there draws ICMP port unreachable. */
async function closedUdpPort(): Promise<number> {
  const socket = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
  const { port } = socket;
  socket.close();
  return port;
}

testAdapter({
  protocol: "udp",
  transport: "messages",
  fields: [{ name: "target_ip" }, { name: "target_port" }],
  async startTarget(mode) {
    const target = await startUdpTarget(mode);
    return { ...target, fields: { target_ip: "127.0.0.1", target_port: target.port } };
  },
  refusedFields: async () => ({ target_ip: "127.0.0.1", target_port: await closedUdpPort() }),
  refusal: { kind: "close", reason: /^target failed: ECONNREFUSED$/ },
  maxMessageBytes: 65_507,
  invalid: [
    ["target_ip", "127.1", "not a valid IPv4 address"],
    ["target_port", 0, "target_port must be an integer from 1 to 65535"],
    ["target_port", "53", "target_port must be an integer from 1 to 65535"],
  ],
});

describe("udp: its own cases", () => {
  let proxy: ContractProxy;
  beforeAll(async () => {
    proxy = await startContractProxy({}, {}, { deny: ["udp:127.0.0.2"] });
  });
  afterAll(() => proxy.stop());

  test("only the target's address and port reach the client: another sender's datagram is not delivered", async () => {
    const target = await startUdpTarget("quiet");
    // The kernel answers the stranger with ICMP port unreachable, reported on its error queue.
    const stranger = await Bun.udpSocket({
      hostname: "127.0.0.1",
      port: 0,
      socket: { error() {} },
    });
    try {
      const { client, status } = await openSession(proxy.url, {
        protocol: "udp",
        target_ip: "127.0.0.1",
        target_port: target.port,
      });
      expect(status.status).toBe("connected");
      client.send(new TextEncoder().encode("who is there"));
      const peer = await target.nextPeer();
      const proxySide = peer.remote as { address: string; port: number };
      stranger.send(new TextEncoder().encode("not from the target"), proxySide.port, "127.0.0.1");
      // Sent after the stranger's: if the stranger's got through, it would arrive first.
      peer.send(new TextEncoder().encode("from the target"));
      expect(new TextDecoder().decode((await client.next()) as Uint8Array)).toBe("from the target");
      client.close();
    } finally {
      stranger.close();
      await target.stop();
    }
  });

  test("IPv6: the largest datagram is 65,527 bytes; one byte more closes with 1009", async () => {
    const target = await startUdpTarget("echo", "::1");
    try {
      const { client, status } = await openSession(proxy.url, {
        protocol: "udp",
        target_ip: "::1",
        target_port: target.port,
      });
      expect(status.status).toBe("connected");
      const largest = randomBytes(65_527);
      client.send(largest);
      expect(await client.next()).toEqual(largest);
      client.send(randomBytes(65_528));
      expect((await client.closed).code).toBe(1009);
    } finally {
      await target.stop();
    }
  });

  test("the policy applies to udp as to tcp, and a rule naming udp leaves tcp alone", async () => {
    const target = await startUdpTarget("echo");
    try {
      const denied = await openSession(proxy.url, {
        protocol: "udp",
        target_ip: "127.0.0.2",
        target_port: target.port,
      });
      expect(denied.status).toMatchObject({ status: "error", error: "forbidden" });
      expect(await denied.client.closed).toEqual({ code: 4403, reason: "forbidden" });
      const metadata = await openSession(proxy.url, {
        protocol: "udp",
        target_ip: "169.254.169.254",
        target_port: 53,
      });
      expect(metadata.status).toMatchObject({ status: "error", error: "forbidden" });
      const tcp = await openSession(proxy.url, {
        protocol: "tcp",
        target_ip: "127.0.0.2",
        target_port: 9,
      });
      // Not forbidden: the rule names udp (nothing listens there, so the connect fails).
      expect(tcp.status).toMatchObject({ status: "error", error: "connect_failed" });
      expect(target.peers()).toBe(0);
    } finally {
      await target.stop();
    }
  });

  test("datagrams dropped towards a client that does not read are counted in the log line and metrics", async () => {
    const counted = await startContractProxy({}, {}, { metrics: true });
    const target = await startUdpTarget("quiet");
    try {
      const raw = await openRawClient(counted.port);
      await raw.waitFor(() => raw.texts.length === 1);
      raw.sendText(
        JSON.stringify({ protocol: "udp", target_ip: "127.0.0.1", target_port: target.port }),
      );
      await raw.waitFor(() => raw.texts.length === 2);
      raw.sendText("hello");
      const peer = await target.nextPeer();
      raw.pause();
      for (let round = 0; round < 40; round++) {
        peer.flood(2 * 1024 * 1024);
        await Bun.sleep(5);
      }
      raw.end();
      const line = await counted.logLine(/dropped (\d+) to client 0 to target/);
      const dropped = Number(/dropped (\d+) to client/.exec(line)?.[1]);
      const metrics = await (await fetch(`http://127.0.0.1:${counted.port}/metrics`)).text();
      expect(metrics).toContain(
        `socket2web_datagrams_dropped_total{direction="target_to_client"} ${dropped}`,
      );
    } finally {
      await target.stop();
      await counted.stop();
    }
  }, 30_000);

  test("the idle timeout applies: a quiet udp session closes with 4001", async () => {
    const idle = await startContractProxy({}, { idleTimeout: 1 });
    const target = await startUdpTarget("echo");
    try {
      const { client, status } = await openSession(idle.url, {
        protocol: "udp",
        target_ip: "127.0.0.1",
        target_port: target.port,
      });
      expect(status.status).toBe("connected");
      expect(await client.closed).toEqual({ code: 4001, reason: "idle timeout" });
    } finally {
      await target.stop();
      await idle.stop();
    }
  });
});
