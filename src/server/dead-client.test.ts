import { afterAll, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { createConsola, LogLevels } from "consola";
import { defaultServerConfig } from "../config/defaults.ts";
import { mapResolver } from "../net/resolver.ts";

const DEFAULT_CONFIG = await defaultServerConfig();

import { startServer } from "./server.ts";

// A session held back by a target that does not read has its WebSocket paused; Bun then neither
// pings it nor times it out. A client that dies meanwhile must still be dropped, and one that is
// alive (answers pings) must be kept. Real sockets on loopback; the client is a raw WebSocket so
// the test decides whether it answers pings.

const logger = createConsola({ level: LogLevels.silent });
const HIGH_WATER = 64 * 1024;
const server = startServer(
  { ...DEFAULT_CONFIG, port: 0 },
  {
    logger,
    resolver: mapResolver({}),
    flow: { highWater: HIGH_WATER, lowWater: HIGH_WATER / 4 },
    clientTimeout: 1,
  },
);
/** A target that accepts and never reads. */
const target = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open: (socket) => socket.pause(),
    data() {},
  },
});
afterAll(async () => {
  await server.shutdown(0);
  target.stop(true);
});

const OP_TEXT = 1;
const OP_BINARY = 2;
const OP_PING = 9;
const OP_PONG = 10;

/** A masked client frame (RFC 6455 section 5.2). */
function frame(opcode: number, payload: Uint8Array): Buffer {
  const length = payload.byteLength;
  const header =
    length < 126
      ? Buffer.from([0x80 | opcode, 0x80 | length])
      : length < 65536
        ? Buffer.from([0x80 | opcode, 0x80 | 126, length >> 8, length & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | 127]), bigLength(length)]);
  // A zero mask leaves the payload as it is.
  return Buffer.concat([header, Buffer.alloc(4), payload]);
}

function bigLength(length: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(length));
  return bytes;
}

interface RawClient {
  socket: Socket;
  pings: number;
  closed: Promise<void>;
  /** Resolves when `count` pings have arrived. */
  pinged(count: number): Promise<void>;
  texts: string[];
}

/** Opens a raw WebSocket; server frames are parsed only as far as the test needs. */
function rawClient(answerPings: boolean): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, "127.0.0.1", () =>
      socket.write(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
      ),
    );
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    const waiters: { count: number; done: () => void }[] = [];
    const client: RawClient = {
      socket,
      pings: 0,
      texts: [],
      closed: new Promise((done) => socket.on("close", () => done())),
      pinged: (count) =>
        new Promise((done) => {
          if (client.pings >= count) done();
          else waiters.push({ count, done });
        }),
    };
    socket.on("error", reject);
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        upgraded = true;
        buffer = buffer.subarray(end + 4);
        resolve(client);
      }
      // Server frames are unmasked; the test's frames are short (greeting, status, pings).
      while (buffer.length >= 2) {
        const opcode = (buffer[0] as number) & 0x0f;
        let length = (buffer[1] as number) & 0x7f;
        let offset = 2;
        if (length === 126) {
          if (buffer.length < 4) return;
          length = buffer.readUInt16BE(2);
          offset = 4;
        }
        if (buffer.length < offset + length) return;
        const payload = buffer.subarray(offset, offset + length);
        buffer = buffer.subarray(offset + length);
        if (opcode === OP_TEXT) client.texts.push(payload.toString());
        if (opcode === OP_PING) {
          client.pings++;
          if (answerPings) socket.write(frame(OP_PONG, payload));
          for (const waiter of waiters.filter((w) => client.pings >= w.count)) waiter.done();
        }
      }
    });
  });
}

/** Polls a condition the server exposes, bounded in count. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 4000 && !done(); i++) await Bun.sleep(5);
  if (!done()) throw new Error("condition not reached");
}

/** A session to the non-reading target, flooded until the server has paused the client. */
async function pausedSession(answerPings: boolean): Promise<RawClient> {
  const client = await rawClient(answerPings);
  await until(() => client.texts.length === 1);
  const handshake = { protocol: "tcp", target_ip: "127.0.0.1", target_port: target.port };
  client.socket.write(frame(OP_TEXT, Buffer.from(JSON.stringify(handshake))));
  await until(() => client.texts.length === 2);
  expect(JSON.parse(client.texts[1] as string).status).toBe("connected");
  const session = [...server.sessions].at(-1);
  const chunk = new Uint8Array(16 * 1024);
  // The target's kernel buffers fill first, then the relay's queue reaches its high-water mark.
  for (let i = 0; i < 10_000 && (session?.pendingToTarget ?? 0) < HIGH_WATER; i++) {
    if (!client.socket.write(frame(OP_BINARY, chunk))) {
      await new Promise((drained) => client.socket.once("drain", drained));
    }
  }
  expect(session?.pendingToTarget ?? 0).toBeGreaterThanOrEqual(HIGH_WATER);
  return client;
}

describe("a session paused by backpressure", () => {
  test("is dropped when its client stops answering", async () => {
    const client = await pausedSession(false);
    const session = [...server.sessions].at(-1);
    await client.closed;
    // Its client is gone; it still counts while its bytes wait for the target (up to the flush grace).
    await until(() => session?.phase === "closed");
    expect(server.sessions.has(session as NonNullable<typeof session>)).toBe(true);
  }, 60_000);

  test("is kept while its client answers pings", async () => {
    const client = await pausedSession(true);
    await client.pinged(3);
    expect(client.socket.destroyed).toBe(false);
    expect(client.socket.readyState).toBe("open");
    client.socket.destroy();
    await client.closed;
  }, 60_000);
});
