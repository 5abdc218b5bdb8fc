import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { TargetConnection } from "../adapters/types.ts";
import { StreamRelay } from "./stream-relay.ts";
import type { ClientSide } from "./types.ts";

const limits = { highWater: 1000, lowWater: 250 };

/** A target that takes a scripted number of bytes per write, like a kernel buffer that fills up. */
function scriptedTarget(takes: () => number) {
  const written: number[] = [];
  let paused = true;
  let ended = false;
  const connection: TargetConnection = {
    write(chunk) {
      if (ended) throw new Error("write after end");
      const n = Math.min(chunk.byteLength, takes());
      for (let i = 0; i < n; i++) written.push(chunk[i] as number);
      return n;
    },
    pause: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
    },
    end: () => {
      ended = true;
    },
    destroy: () => {
      ended = true;
    },
  };
  return { connection, written, isPaused: () => paused, isEnded: () => ended };
}

function recordingClient(backpressured: () => boolean) {
  const received: number[] = [];
  let buffered = 0;
  let paused = false;
  const side: ClientSide = {
    send(chunk) {
      for (const byte of chunk) received.push(byte);
      if (backpressured()) {
        buffered += chunk.byteLength;
        return -1;
      }
      return chunk.byteLength;
    },
    bufferedAmount: () => buffered,
    pause: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
    },
    close() {},
  };
  return {
    side,
    received,
    isPaused: () => paused,
    flush: () => {
      buffered = 0;
    },
  };
}

type Step =
  | { kind: "client"; bytes: number }
  | { kind: "target"; bytes: number }
  | { kind: "targetDrain" }
  | { kind: "clientDrain" }
  | { kind: "attach" };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("client" as const), bytes: fc.integer({ min: 0, max: 1500 }) }),
  fc.record({ kind: fc.constant("target" as const), bytes: fc.integer({ min: 1, max: 1500 }) }),
  fc.constant({ kind: "targetDrain" as const }),
  fc.constant({ kind: "clientDrain" as const }),
  fc.constant({ kind: "attach" as const }),
);

describe("StreamRelay", () => {
  test("property: under any chunking, partial writes and interleaving, bytes arrive complete and in order", () => {
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 200 }),
        fc.array(fc.integer({ min: 0, max: 700 }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 20 }),
        (steps, takes, pressure) => {
          let t = 0;
          let p = 0;
          const target = scriptedTarget(() => takes[t++ % takes.length] as number);
          const client = recordingClient(() => pressure[p++ % pressure.length] as boolean);
          const relay = new StreamRelay({ client: client.side, limits });
          const fromClient: number[] = [];
          const fromTarget: number[] = [];
          let attached = false;
          let counter = 0;
          for (const s of steps) {
            if (s.kind === "client") {
              // A paused client delivers nothing more: Bun stops reading its socket.
              if (client.isPaused()) continue;
              const chunk = Uint8Array.from({ length: s.bytes }, () => counter++ % 256);
              fromClient.push(...chunk);
              relay.fromClient(chunk);
            } else if (s.kind === "target") {
              if (!attached || target.isPaused()) continue;
              const chunk = Uint8Array.from({ length: s.bytes }, (_, i) => (i * 7) % 256);
              fromTarget.push(...chunk);
              relay.fromTarget(chunk);
            } else if (s.kind === "targetDrain") {
              if (attached) relay.targetDrained();
            } else if (s.kind === "clientDrain") {
              client.flush();
              relay.clientDrained();
            } else if (!attached) {
              attached = true;
              relay.attach(target.connection);
            }
            // Invariants at every step: the backlog bounds hold, and what went out is a prefix of what came in.
            expect(relay.pendingToTarget).toBeLessThanOrEqual(limits.highWater + 1500);
            if (relay.pendingToTarget >= limits.highWater) expect(client.isPaused()).toBe(true);
            expect(target.written).toEqual(fromClient.slice(0, target.written.length));
          }
          expect(client.received).toEqual(fromTarget);
          if (!attached) relay.attach(target.connection);
          // Once the target takes everything, the backlog empties completely and in order.
          takes.splice(0, takes.length, Number.MAX_SAFE_INTEGER);
          relay.endTargetAfterFlush();
          expect(target.written).toEqual(fromClient);
          expect(relay.pendingToTarget).toBe(0);
          expect(target.isEnded()).toBe(true);
          expect(client.isPaused()).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("the target is paused while the client is backpressured past the high-water mark, resumed below low water", () => {
    const target = scriptedTarget(() => Number.MAX_SAFE_INTEGER);
    let buffered = 0;
    const relay = new StreamRelay({
      client: {
        send: (chunk) => {
          buffered += chunk.byteLength;
          return -1;
        },
        bufferedAmount: () => buffered,
        pause() {},
        resume() {},
        close() {},
      },
      limits,
    });
    relay.attach(target.connection);
    expect(target.isPaused()).toBe(false);
    relay.fromTarget(new Uint8Array(999));
    expect(target.isPaused()).toBe(false);
    relay.fromTarget(new Uint8Array(1));
    expect(target.isPaused()).toBe(true);
    buffered = 300;
    relay.clientDrained();
    expect(target.isPaused()).toBe(true);
    buffered = 249;
    relay.clientDrained();
    expect(target.isPaused()).toBe(false);
  });

  test("end of stream to the target waits until the backlog is written", () => {
    let open = false;
    const target = scriptedTarget(() => (open ? Number.MAX_SAFE_INTEGER : 0));
    const client = recordingClient(() => false);
    const relay = new StreamRelay({ client: client.side, limits });
    relay.attach(target.connection);
    relay.fromClient(new Uint8Array(10).fill(1));
    relay.endTargetAfterFlush();
    expect(target.isEnded()).toBe(false);
    open = true;
    relay.targetDrained();
    expect(target.written).toHaveLength(10);
    expect(target.isEnded()).toBe(true);
  });
});
