import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { TargetConnection } from "../adapters/types.ts";
import { MessageRelay } from "./message-relay.ts";
import type { ClientSide } from "./types.ts";

const limits = { highWater: 1000, lowWater: 250 };

/** A datagram socket that takes a message whole when `accepts()` says so, else nothing. */
function datagramTarget(accepts: () => boolean, maxMessageBytes = 65_507) {
  const written: Uint8Array[] = [];
  let ended = false;
  const connection: TargetConnection = {
    maxMessageBytes,
    write(message) {
      if (ended) throw new Error("write after end");
      if (!accepts()) return -1;
      written.push(message);
      return message.byteLength;
    },
    pause() {},
    resume() {},
    end: () => {
      ended = true;
    },
    destroy: () => {
      ended = true;
    },
  };
  return { connection, written, isEnded: () => ended };
}

function recordingClient() {
  const received: Uint8Array[] = [];
  const closes: [number, string][] = [];
  let buffered = 0;
  let paused = false;
  const side: ClientSide = {
    send(message) {
      received.push(message);
      buffered += message.byteLength;
      return -1;
    },
    bufferedAmount: () => buffered,
    pause: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
    },
    close: (code, reason) => {
      closes.push([code, reason]);
    },
  };
  return {
    side,
    received,
    closes,
    isPaused: () => paused,
    flush: () => {
      buffered = 0;
    },
  };
}

const message = (id: number, size: number) => {
  const bytes = new Uint8Array(size + 2);
  bytes[0] = id & 0xff;
  bytes[1] = id >> 8;
  return bytes;
};
const idOf = (bytes: Uint8Array) => (bytes[0] as number) | ((bytes[1] as number) << 8);

type Step =
  | { kind: "client"; size: number }
  | { kind: "target"; size: number }
  | { kind: "targetDrain" }
  | { kind: "clientDrain" }
  | { kind: "attach" };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("client" as const), size: fc.integer({ min: 0, max: 600 }) }),
  fc.record({ kind: fc.constant("target" as const), size: fc.integer({ min: 0, max: 600 }) }),
  fc.constant({ kind: "targetDrain" as const }),
  fc.constant({ kind: "clientDrain" as const }),
  fc.constant({ kind: "attach" as const }),
);

describe("MessageRelay", () => {
  test("property: each message arrives whole and in order, or (towards the client only) is dropped and counted", () => {
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 200 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 20 }),
        (steps, accepting) => {
          let a = 0;
          const target = datagramTarget(() => accepting[a++ % accepting.length] as boolean);
          const client = recordingClient();
          const relay = new MessageRelay({ client: client.side, limits });
          const sentByClient: Uint8Array[] = [];
          let fromTarget = 0;
          let attached = false;
          for (const s of steps) {
            if (s.kind === "client") {
              if (client.isPaused()) continue;
              const m = message(sentByClient.length, s.size);
              sentByClient.push(m);
              relay.fromClient(m);
            } else if (s.kind === "target") {
              relay.fromTarget(message(fromTarget++, s.size));
            } else if (s.kind === "targetDrain") {
              if (attached) relay.targetDrained();
            } else if (s.kind === "clientDrain") {
              client.flush();
              relay.clientDrained();
            } else if (!attached) {
              attached = true;
              relay.attach(target.connection);
            }
            // Towards the target: a prefix of what the client sent, the same objects, unsplit.
            expect(target.written).toEqual(sentByClient.slice(0, target.written.length));
            expect(relay.pendingToTarget).toBeLessThanOrEqual(limits.highWater + 602);
            if (relay.pendingToTarget >= limits.highWater) expect(client.isPaused()).toBe(true);
            expect(relay.dropped.toTarget).toBe(0);
          }
          if (!attached) relay.attach(target.connection);
          // Towards the client: increasing ids (nothing reordered), every gap counted as a drop.
          const ids = client.received.map(idOf);
          for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1] as number);
          expect(client.received.length + relay.dropped.toClient).toBe(fromTarget);
          accepting.splice(0, accepting.length, true);
          relay.endTargetAfterFlush();
          expect(target.written).toEqual(sentByClient);
          expect(target.isEnded()).toBe(true);
          expect(client.isPaused()).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("an empty message is a message: it is delivered, not skipped", () => {
    const target = datagramTarget(() => true);
    const client = recordingClient();
    const relay = new MessageRelay({ client: client.side, limits });
    relay.attach(target.connection);
    relay.fromClient(new Uint8Array(0));
    relay.fromTarget(new Uint8Array(0));
    expect(target.written).toHaveLength(1);
    expect(client.received).toHaveLength(1);
  });

  test("a message larger than the target's limit closes the client with 1009 and is never split", () => {
    const target = datagramTarget(() => true, 100);
    const client = recordingClient();
    const relay = new MessageRelay({ client: client.side, limits });
    relay.fromClient(new Uint8Array(100));
    relay.fromClient(new Uint8Array(101));
    relay.attach(target.connection);
    expect(target.written.map((m) => m.byteLength)).toEqual([100]);
    expect(client.closes).toEqual([
      [1009, "message of 101 bytes exceeds the target's limit of 100 bytes"],
    ]);
    expect(relay.pendingToTarget).toBe(0);
  });

  test("datagrams from the target wait for attach (the client sees `connected` first)", () => {
    const client = recordingClient();
    const relay = new MessageRelay({ client: client.side, limits });
    relay.fromTarget(new Uint8Array([1]));
    expect(client.received).toHaveLength(0);
    relay.attach(datagramTarget(() => true).connection);
    expect(client.received).toEqual([new Uint8Array([1])]);
  });

  test("a datagram the kernel refuses is counted as dropped, and the next one still goes", () => {
    let calls = 0;
    const target = datagramTarget(() => true);
    const refusing: TargetConnection = {
      ...target.connection,
      write(m) {
        if (calls++ === 0) throw Object.assign(new Error("ENOBUFS"), { code: "ENOBUFS" });
        return target.connection.write(m);
      },
    };
    const relay = new MessageRelay({ client: recordingClient().side, limits });
    relay.attach(refusing);
    relay.fromClient(new Uint8Array([1]));
    relay.fromClient(new Uint8Array([2]));
    expect(relay.dropped.toTarget).toBe(1);
    expect(target.written).toEqual([new Uint8Array([2])]);
  });
});
