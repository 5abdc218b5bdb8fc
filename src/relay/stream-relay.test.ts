import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { TargetConnection } from "../adapters/types.ts";
import { Bandwidth } from "../limits/bandwidth.ts";
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

  describe("under bandwidth limits", () => {
    /** A limit whose clock stands still: each wait is exactly what the bytes cost at the rate. */
    const frozenLimit = (bytesPerSecond: number) =>
      new Bandwidth({ bytesPerSecond, burstBytes: 1, now: () => 0 });

    /** Resolves once `condition` holds (bounded: these waits are tens of ms). */
    async function until(condition: () => boolean): Promise<void> {
      for (let i = 0; i < 400 && !condition(); i++) await Bun.sleep(5);
      expect(condition()).toBe(true);
    }

    test("a client ahead of its rate is paused, its bytes all delivered, and read again after the wait", async () => {
      const target = scriptedTarget(() => Number.MAX_SAFE_INTEGER);
      const client = recordingClient(() => false);
      const relay = new StreamRelay({ client: client.side, limits });
      relay.attach(target.connection);
      relay.limit({ up: [frozenLimit(10_000)], down: [] });
      relay.fromClient(new Uint8Array(200)); // 20 ms at 10 kB/s
      expect(client.isPaused()).toBe(true);
      expect(target.written).toHaveLength(200);
      await until(() => !client.isPaused());
    });

    test("the backlog lifting does not resume a client the limit still holds, nor the reverse", async () => {
      let open = false;
      const target = scriptedTarget(() => (open ? Number.MAX_SAFE_INTEGER : 0));
      const client = recordingClient(() => false);
      const relay = new StreamRelay({ client: client.side, limits });
      relay.attach(target.connection);
      relay.limit({ up: [frozenLimit(10_000)], down: [] });
      // 1000 bytes: at the high-water mark, and 100 ms owed.
      relay.fromClient(new Uint8Array(1000));
      expect(client.isPaused()).toBe(true);
      open = true;
      relay.targetDrained();
      expect(relay.pendingToTarget).toBe(0);
      expect(client.isPaused()).toBe(true);
      await until(() => !client.isPaused());
      // The other way round: the wait ends while the target is still behind.
      open = false;
      const again = new StreamRelay({ client: client.side, limits });
      again.attach(target.connection);
      again.limit({ up: [frozenLimit(10_000)], down: [] });
      again.fromClient(new Uint8Array(1000));
      expect(client.isPaused()).toBe(true);
      await Bun.sleep(150);
      expect(client.isPaused()).toBe(true);
      open = true;
      again.targetDrained();
      expect(client.isPaused()).toBe(false);
    });

    test("bytes read during the wait are waited for before reading again", async () => {
      const target = scriptedTarget(() => Number.MAX_SAFE_INTEGER);
      const client = recordingClient(() => false);
      const relay = new StreamRelay({ client: client.side, limits });
      relay.attach(target.connection);
      relay.limit({ up: [frozenLimit(10_000)], down: [] });
      const began = performance.now();
      relay.fromClient(new Uint8Array(100)); // 10 ms
      // What the socket had already read arrives after the pause: 40 ms more.
      relay.fromClient(new Uint8Array(400));
      await until(() => !client.isPaused());
      expect(performance.now() - began).toBeGreaterThanOrEqual(45);
    });

    test("a target ahead of its rate is paused and resumed; backpressure from the client is kept apart", async () => {
      const target = scriptedTarget(() => Number.MAX_SAFE_INTEGER);
      let buffered = 0;
      const relay = new StreamRelay({
        client: {
          send: (chunk) => {
            buffered += chunk.byteLength;
            return buffered >= limits.highWater ? -1 : chunk.byteLength;
          },
          bufferedAmount: () => buffered,
          pause() {},
          resume() {},
          close() {},
        },
        limits,
      });
      relay.attach(target.connection);
      relay.limit({ up: [], down: [frozenLimit(10_000)] });
      relay.fromTarget(new Uint8Array(1000)); // 100 ms, and the client is behind
      expect(target.isPaused()).toBe(true);
      buffered = 0;
      relay.clientDrained();
      expect(target.isPaused()).toBe(true);
      await until(() => !target.isPaused());
    });

    test("a frozen relay stays paused when its wait ends; a discarded one has no wait left", async () => {
      const target = scriptedTarget(() => Number.MAX_SAFE_INTEGER);
      const client = recordingClient(() => false);
      const relay = new StreamRelay({ client: client.side, limits });
      relay.attach(target.connection);
      relay.limit({ up: [frozenLimit(10_000)], down: [frozenLimit(10_000)] });
      relay.fromClient(new Uint8Array(100));
      relay.fromTarget(new Uint8Array(100));
      relay.freeze();
      await Bun.sleep(60);
      expect(client.isPaused()).toBe(true);
      expect(target.isPaused()).toBe(true);

      const other = scriptedTarget(() => Number.MAX_SAFE_INTEGER);
      const second = new StreamRelay({ client: recordingClient(() => false).side, limits });
      second.attach(other.connection);
      second.limit({ up: [], down: [frozenLimit(10_000)] });
      second.fromTarget(new Uint8Array(100));
      expect(other.isPaused()).toBe(true);
      second.discard();
      await Bun.sleep(60);
      // Nothing resumed the target of a relay that was torn down.
      expect(other.isPaused()).toBe(true);
    });

    test("a session its limit holds back is active, not idle: the idle timeout does not count the wait", async () => {
      const target = scriptedTarget(() => Number.MAX_SAFE_INTEGER);
      const client = recordingClient(() => false);
      const relay = new StreamRelay({ client: client.side, limits, trackActivity: true });
      relay.attach(target.connection);
      relay.limit({ up: [frozenLimit(10_000)], down: [] });
      relay.fromClient(new Uint8Array(1000)); // 100 ms owed
      const moved = Date.now();
      await Bun.sleep(30);
      expect(client.isPaused()).toBe(true);
      expect(relay.lastActivity).toBeGreaterThanOrEqual(moved + 25);
      await until(() => !client.isPaused());
      // The wait is over and nothing moves: quiet from the end of the wait on.
      const after = relay.lastActivity;
      expect(after).toBeGreaterThanOrEqual(moved + 90);
      await Bun.sleep(20);
      expect(relay.lastActivity).toBe(after);
    });

    test("bytes read before the limits were known count against them", () => {
      const target = scriptedTarget(() => Number.MAX_SAFE_INTEGER);
      const client = recordingClient(() => false);
      const relay = new StreamRelay({ client: client.side, limits });
      relay.fromClient(new Uint8Array(100));
      expect(client.isPaused()).toBe(false);
      relay.attach(target.connection);
      relay.limit({ up: [frozenLimit(10_000)], down: [] });
      expect(client.isPaused()).toBe(true);
    });
  });
});
