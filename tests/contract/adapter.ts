import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { AdapterSettings } from "../../src/adapters/settings.ts";
import type { TransportKind } from "../../src/adapters/types.ts";
import { randomBytes, sha256 } from "../helpers/bytes.ts";
import { KERNEL_IN_FLIGHT } from "../helpers/kernel-buffers.ts";
import { patternChecker } from "../helpers/pattern.ts";
import { openRawClient } from "../helpers/raw-ws.ts";
import { openClient, type TestClient } from "../helpers/ws-client.ts";
import { type ContractProxy, startContractProxy } from "./proxy.ts";
import { BANNER, type ContractTarget, type PendingTarget, type TargetMode } from "./targets.ts";

/**
 * What the shared suite needs to know about one adapter. Everything else it learns by talking to
 * the real server (in this process) over real loopback sockets.
 */
export interface AdapterContract {
  readonly protocol: string;
  readonly transport: TransportKind;
  /** The greeting's fields for this protocol, in order, and whether each may be left out. */
  readonly fields: readonly { readonly name: string; readonly optional?: boolean }[];
  /** Runs before the server starts (a temporary directory, a certificate); gives its settings. */
  setup?(): Promise<Partial<AdapterSettings>>;
  teardown?(): Promise<void>;
  /** A target of this adapter's kind: `echo` answers everything, `quiet` only records. */
  startTarget(mode: TargetMode): Promise<ContractTarget>;
  /** Fields naming a target where nothing listens. */
  refusedFields(): Promise<Record<string, unknown>>;
  /**
   * How a refused target shows: as a failed connect (`status`), or, for a transport without a
   * connect (UDP), as a close once the first message draws the ICMP answer (`close`).
   */
  readonly refusal: { readonly kind: "status" | "close"; readonly reason: RegExp };
  /** A target that does not open until released, where opening can take time (tcp, tls). */
  startPendingTarget?(): Promise<PendingTarget>;
  /** Values a field refuses beyond the wrong JSON type: [field, value, part of the reason]. */
  readonly invalid: readonly (readonly [string, unknown, string])[];
  /** `messages` transports: the largest message the target takes (a larger one closes with 1009). */
  readonly maxMessageBytes?: number;
}

const MiB = 1024 * 1024;
/** The proxy's own per-connection bound (1 MiB each way) plus a read chunk, with margin. */
const PROXY_IN_FLIGHT = 4 * MiB;
/** The largest chunk Bun reads or sends at once on these sockets, for backlog bounds. */
const CHUNK_MARGIN = 512 * 1024;

export interface Opened {
  readonly client: TestClient;
  readonly status: Record<string, unknown>;
}

/** Greets, sends the handshake and anything `pipelined` right after it, and reads the status. */
export async function openSession(
  url: string,
  handshake: Record<string, unknown>,
  pipelined: (string | Uint8Array)[] = [],
): Promise<Opened> {
  const client = await openClient(url);
  await client.nextJson();
  client.send(JSON.stringify(handshake));
  for (const data of pipelined) client.send(data);
  const status = await client.nextJson();
  return { client, status };
}

/** Polls a figure until it stops moving for `quietMs` (bounded): "the flood has stalled". */
async function settled(figure: () => number, quietMs = 400, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = figure();
  let since = Date.now();
  while (Date.now() < deadline) {
    await Bun.sleep(25);
    const now = figure();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return now;
    }
  }
  throw new Error("the figure never settled");
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

/**
 * The contract every adapter passes, run against the real server with real targets. Called once
 * per adapter from `tests/contract/<name>.test.ts`; the adapter's own cases follow it there.
 */
export function testAdapter(contract: AdapterContract): void {
  const { protocol } = contract;
  const streams = contract.transport === "stream";
  let proxy: ContractProxy;
  let echo: ContractTarget;
  let settings: Partial<AdapterSettings> = {};
  const stopLater: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    settings = (await contract.setup?.()) ?? {};
    proxy = await startContractProxy(settings);
    echo = await contract.startTarget("echo");
  });
  afterAll(async () => {
    for (const stop of stopLater.splice(0)) await stop();
    await echo?.stop();
    await proxy?.stop();
    await contract.teardown?.();
  });

  const handshakeTo = (fields: Record<string, unknown>) => ({ protocol, ...fields });
  const connected = async (
    fields: Record<string, unknown>,
    pipelined?: (string | Uint8Array)[],
  ) => {
    const opened = await openSession(proxy.url, handshakeTo(fields), pipelined);
    expect(opened.status).toEqual({ status: "connected", ...handshakeTo(fields) });
    return opened.client;
  };
  const sessionOf = () => {
    const sessions = [...proxy.server.sessions];
    return sessions[sessions.length - 1];
  };

  describe(`${protocol}: contract`, () => {
    test("the greeting lists it with a description for each field", async () => {
      const client = await openClient(proxy.url);
      const greeting = await client.nextJson();
      const fields = (greeting["supported protocols"] as Record<string, Record<string, string>>)[
        protocol
      ];
      expect(Object.keys(fields ?? {})).toEqual(contract.fields.map((field) => field.name));
      for (const description of Object.values(fields ?? {})) {
        expect(typeof description).toBe("string");
        expect(description.length).toBeGreaterThan(3);
      }
      client.close();
    });

    const invalidCases: [string, string, (fields: Record<string, unknown>) => void, string][] = [];
    for (const field of contract.fields) {
      invalidCases.push([
        `${field.name} of the wrong JSON type`,
        field.name,
        (fields) => {
          fields[field.name] = true;
        },
        field.name,
      ]);
      if (!field.optional) {
        invalidCases.push([
          `a handshake without ${field.name}`,
          field.name,
          (fields) => {
            delete fields[field.name];
          },
          `${field.name} is required`,
        ]);
      }
    }
    for (const [name, value, reason] of contract.invalid) {
      invalidCases.push([
        `${name} ${JSON.stringify(value)?.slice(0, 40)}`,
        name,
        (fields) => {
          fields[name] = value;
        },
        reason,
      ]);
    }
    test.each(invalidCases)("%s gets invalid_handshake, 4400", async (_, __, change, reason) => {
      const fields = { ...echo.fields };
      change(fields);
      const before = echo.peers();
      const { client, status } = await openSession(proxy.url, handshakeTo(fields));
      expect(status).toMatchObject({ status: "error", error: "invalid_handshake" });
      expect(String(status.reason)).toContain(reason);
      expect(await client.closed).toEqual({ code: 4400, reason: "invalid_handshake" });
      expect(echo.peers()).toBe(before);
    });

    test("binary and text frames go to the target, and its answer comes back as binary", async () => {
      const binary = Uint8Array.from({ length: 256 }, (_, i) => i);
      const text = "héllo ✓";
      const client = await connected(echo.fields);
      client.send(binary);
      client.send(text);
      const textBytes = new TextEncoder().encode(text);
      if (streams) {
        const back = await client.readBytes(binary.byteLength + textBytes.byteLength);
        expect(back).toEqual(new Uint8Array([...binary, ...textBytes]));
      } else {
        expect(await client.next()).toEqual(binary);
        expect(await client.next()).toEqual(textBytes);
      }
      client.close();
    });

    test("data sent right after the handshake, before the status, arrives once connected, in order", async () => {
      const first = randomBytes(1000);
      const second = randomBytes(2000);
      const client = await connected(echo.fields, [first, second]);
      if (streams) {
        expect(await client.readBytes(3000)).toEqual(new Uint8Array([...first, ...second]));
      } else {
        expect(await client.next()).toEqual(first);
        expect(await client.next()).toEqual(second);
      }
      client.close();
    });

    if (streams) {
      test("64 MiB of random bytes in mixed frame sizes come back intact (SHA-256)", async () => {
        const total = 64 * MiB;
        const data = randomBytes(total);
        const client = await connected(echo.fields);
        let offset = 0;
        let size = 1;
        while (offset < total) {
          const end = Math.min(total, offset + size);
          client.send(data.subarray(offset, end));
          offset = end;
          size = size >= MiB ? 1 : size * 7 + 3;
        }
        const back = await client.readBytes(total, 60_000);
        expect(sha256(back)).toBe(sha256(data));
        client.close();
      }, 90_000);

      test("a target that speaks first: its bytes reach the client after the `connected` status", async () => {
        const target = await contract.startTarget("banner");
        stopLater.push(target.stop);
        // `connected` asserts that the first frame after the greeting is the status (text).
        const client = await connected(target.fields);
        expect(await client.readBytes(BANNER.byteLength)).toEqual(BANNER);
        client.close();
      });

      test("target end of stream: every byte is delivered, then close 1000 `target closed`", async () => {
        const target = await contract.startTarget("quiet");
        stopLater.push(target.stop);
        const client = await connected(target.fields);
        const peer = await target.nextPeer();
        const data = randomBytes(300_000);
        peer.send(data);
        peer.end();
        expect(await client.readBytes(data.byteLength)).toEqual(data);
        expect(await client.closed).toEqual({ code: 1000, reason: "target closed" });
      });

      test("target failure: bytes already read are delivered, then close 1011 `target failed: …`", async () => {
        const target = await contract.startTarget("quiet");
        stopLater.push(target.stop);
        const client = await connected(target.fields);
        const peer = await target.nextPeer();
        const data = randomBytes(1000);
        peer.send(data);
        expect(await client.readBytes(data.byteLength)).toEqual(data);
        // Closing with unread data is what makes the kernel report a reset (TCP RST, and for a
        // Unix socket ECONNRESET), rather than a plain end of stream.
        peer.pause();
        client.send(randomBytes(1000));
        await until(
          () => (sessionOf()?.bytesFromClient ?? 0) >= 1000 && sessionOf()?.pendingToTarget === 0,
          "the proxy to write the client's bytes",
        );
        peer.reset();
        const closed = await client.closed;
        expect(closed.code).toBe(1011);
        expect(closed.reason).toStartWith("target failed");
      });

      test("client close: the target gets every byte, then end of stream", async () => {
        const target = await contract.startTarget("quiet");
        stopLater.push(target.stop);
        const client = await connected(target.fields);
        const peer = await target.nextPeer();
        const data = randomBytes(2 * MiB);
        client.send(data);
        client.close(1000);
        expect(sha256(await peer.ended)).toBe(sha256(data));
      });
    } else {
      test("messages keep their boundaries both ways, from empty to the largest", async () => {
        const max = contract.maxMessageBytes ?? 1024;
        const sizes = [0, 1, 2, 100, 1400, 1500, 9000, max - 1, max, 3, 0];
        const client = await connected(echo.fields);
        // One at a time: a datagram echo may lose what overflows its receive buffer.
        for (const size of sizes) {
          const message = randomBytes(size);
          client.send(message);
          expect(await client.next()).toEqual(message);
        }
        client.close();
      });

      test("a message larger than the transport's largest closes with 1009, never split", async () => {
        const max = contract.maxMessageBytes ?? 1024;
        const target = await contract.startTarget("quiet");
        stopLater.push(target.stop);
        const client = await connected(target.fields);
        client.send(randomBytes(10));
        const peer = await target.nextPeer();
        client.send(randomBytes(max + 1));
        expect((await client.closed).code).toBe(1009);
        expect(peer.received.map((m) => m.byteLength)).toEqual([10]);
      });

      test("client close ends the session (the target side has nothing to wait for)", async () => {
        const client = await connected(echo.fields);
        client.send(randomBytes(10));
        await client.next();
        const session = sessionOf();
        client.close(1000);
        await client.closed;
        await until(() => !proxy.server.sessions.has(session as never), "the session to end");
        expect(await proxy.logLine(new RegExp(`${protocol} .* close 1000`))).toBeDefined();
      });
    }

    test("a refused target", async () => {
      const fields = await contract.refusedFields();
      const { client, status } = await openSession(proxy.url, handshakeTo(fields));
      if (contract.refusal.kind === "status") {
        expect(status).toMatchObject({ status: "error", error: "connect_failed" });
        expect(String(status.reason)).toMatch(contract.refusal.reason);
        expect(await client.closed).toEqual({ code: 4502, reason: "connect_failed" });
      } else {
        expect(status).toMatchObject({ status: "connected" });
        client.send(randomBytes(10));
        const closed = await client.closed;
        expect(closed.code).toBe(1011);
        expect(closed.reason).toMatch(contract.refusal.reason);
      }
    });

    const pending = contract.startPendingTarget;
    if (pending) {
      test("a target that does not open within --connect-timeout gets connect_timeout, 4504", async () => {
        const target = await pending();
        const quick = await startContractProxy(settings, { connectTimeout: 1 });
        try {
          const { client, status } = await openSession(quick.url, handshakeTo(target.fields));
          expect(status).toMatchObject({ status: "error", error: "connect_timeout" });
          expect(await client.closed).toEqual({ code: 4504, reason: "connect_timeout" });
        } finally {
          await quick.stop();
          await target.stop();
        }
      }, 15_000);

      test("data sent while the target is opening waits, then arrives once it opens", async () => {
        const target = await pending();
        try {
          const client = await openClient(proxy.url);
          await client.nextJson();
          client.send(JSON.stringify(handshakeTo(target.fields)));
          const data = randomBytes(5000);
          client.send(data);
          await until(
            () => sessionOf()?.pendingToTarget === data.byteLength,
            "data held by the proxy",
          );
          target.release();
          expect(await client.nextJson()).toMatchObject({ status: "connected" });
          client.close(1000);
          expect(await target.delivered()).toBe(sha256(data));
        } finally {
          await target.stop();
        }
      }, 15_000);

      test("a target that opens after the client left still gets the client's bytes, then end", async () => {
        const target = await pending();
        try {
          const client = await openClient(proxy.url);
          await client.nextJson();
          client.send(JSON.stringify(handshakeTo(target.fields)));
          const data = new TextEncoder().encode("sent before the target opened");
          client.send(data);
          await until(
            () => sessionOf()?.pendingToTarget === data.byteLength,
            "data held by the proxy",
          );
          client.close(1000);
          expect((await client.closed).code).toBe(1000);
          target.release();
          expect(await target.delivered()).toBe(sha256(data));
        } finally {
          await target.stop();
        }
      }, 15_000);
    }

    if (streams) {
      test("flow control: a client that stops reading stalls the target; nothing is lost", async () => {
        const target = await contract.startTarget("quiet");
        stopLater.push(target.stop);
        const checker = patternChecker();
        const raw = await openRawClient(proxy.port, (chunk) => checker.check(chunk));
        await raw.waitFor(() => raw.texts.length === 1);
        raw.sendText(JSON.stringify(handshakeTo(target.fields)));
        const peer = await target.nextPeer();
        const total = KERNEL_IN_FLIGHT + 32 * MiB;
        peer.flood(total);
        await raw.waitFor(() => checker.position > MiB);
        raw.pause();
        const stalledAt = await settled(peer.flooded);
        // The target is held back: flow control reached it through the proxy.
        expect(stalledAt).toBeLessThan(total);
        expect(stalledAt - checker.position).toBeLessThan(KERNEL_IN_FLIGHT + PROXY_IN_FLIGHT);
        expect(sessionOf()?.bufferedToClient ?? 0).toBeLessThan(MiB + CHUNK_MARGIN);
        raw.resume();
        await raw.waitFor(() => checker.position >= stalledAt, 30_000);
        expect(checker.broken).toBe(-1);
        raw.end();
      }, 60_000);

      test("flow control: a target that stops reading holds the client back; nothing is lost", async () => {
        const target = await contract.startTarget("quiet");
        stopLater.push(target.stop);
        const client = await connected(target.fields);
        const peer = await target.nextPeer();
        peer.pause();
        const pattern = Uint8Array.from({ length: 251 * 1024 }, (_, i) => i % 251);
        let sent = 0;
        const window = 8 * MiB;
        const pump = () => {
          while (client.ws.bufferedAmount < window && sent < KERNEL_IN_FLIGHT + 64 * MiB) {
            const offset = sent % 251;
            client.send(pattern.subarray(offset, offset + 64 * 1024));
            sent += 64 * 1024;
          }
        };
        const pumping = setInterval(pump, 10);
        const stalledAt = await settled(() => sent);
        clearInterval(pumping);
        // The client could send no more than the kernel buffers, the proxy's bound and its window.
        expect(stalledAt).toBeLessThan(KERNEL_IN_FLIGHT + PROXY_IN_FLIGHT + window);
        expect(sessionOf()?.pendingToTarget ?? 0).toBeLessThan(MiB + CHUNK_MARGIN);
        const checker = patternChecker();
        const seen = peer.received.splice(0);
        for (const chunk of seen) checker.check(chunk);
        peer.resume();
        await peer.receivedBytes(stalledAt, 30_000);
        for (const chunk of peer.received) checker.check(chunk);
        expect(checker.position).toBe(stalledAt);
        expect(checker.broken).toBe(-1);
        client.close();
      }, 60_000);
    } else {
      test("flow control: datagrams a slow client cannot take are dropped and counted; memory stays bounded", async () => {
        const target = await contract.startTarget("quiet");
        stopLater.push(target.stop);
        const raw = await openRawClient(proxy.port);
        await raw.waitFor(() => raw.texts.length === 1);
        raw.sendText(JSON.stringify(handshakeTo(target.fields)));
        await raw.waitFor(() => raw.texts.length === 2);
        raw.sendText("hello");
        const peer = await target.nextPeer();
        raw.pause();
        const session = sessionOf();
        let peakBacklog = 0;
        for (let round = 0; round < 40; round++) {
          peer.flood(2 * MiB);
          await Bun.sleep(5);
          peakBacklog = Math.max(peakBacklog, session?.bufferedToClient ?? 0);
        }
        expect(peakBacklog).toBeLessThan(MiB + (contract.maxMessageBytes ?? 0) + CHUNK_MARGIN);
        raw.end();
        const line = await proxy.logLine(/dropped \d+ to client/);
        const dropped = Number(/dropped (\d+) to client/.exec(line)?.[1]);
        expect(dropped).toBeGreaterThan(0);
      }, 30_000);
    }
  });
}
