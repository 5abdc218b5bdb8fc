import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import type { Socket, TCPSocketListener } from "bun";
import { type Blackhole, startBlackhole } from "../../tests/helpers/blackhole.ts";
import type { Outcome } from "../../tests/helpers/isolated/no-ephemeral-port.ts";
import { runIsolated } from "../../tests/helpers/isolated-network.ts";
import { closedPort } from "../../tests/helpers/ports.ts";
import { ProxyError } from "../protocol/errors.ts";
import { ConnectBudget } from "./connect-budget.ts";
import { openTcp, type TcpOpen } from "./tcp-connect.ts";
import type { TargetEvents } from "./types.ts";

const descriptors = () => readdirSync("/proc/self/fd").length;

/** Waits (at most 1 s, in 10 ms steps) until this process has `count` descriptors open. */
async function descriptorsBackTo(count: number): Promise<number> {
  for (let i = 0; i < 100 && descriptors() !== count; i++) await Bun.sleep(10);
  return descriptors();
}

/** Target events recorded in order, and a promise for the first data. */
function recorder() {
  const seen: string[] = [];
  let gotData: (chunk: Uint8Array) => void = () => {};
  const firstData = new Promise<Uint8Array>((resolve) => {
    gotData = resolve;
  });
  const events: TargetEvents = {
    data(chunk) {
      seen.push(`data ${new TextDecoder().decode(chunk)}`);
      gotData(chunk);
    },
    drain() {},
    end() {
      seen.push("end");
    },
    error(error) {
      seen.push(`error ${error.message}`);
    },
  };
  return { seen, events, firstData };
}

async function rejection(promise: Promise<unknown>): Promise<ProxyError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProxyError) return error;
    throw error;
  }
  throw new Error("the connect did not fail");
}

/** Opens with a budget of its own: `room` 1 connects directly, 0 through node:net. */
const opener = (room: number) => {
  const budget = new ConnectBudget(room);
  return {
    budget,
    open: (open: Omit<TcpOpen, "budget">) => openTcp({ ...open, budget }),
  };
};

describe("openTcp", () => {
  // A target that speaks first: a banner, then more only once the relay resumes the socket.
  let banner: TCPSocketListener<undefined>;
  let blackhole: Blackhole;
  /** The banner server's side of its latest connection, and when a connection closed. */
  let serverSide: Socket<undefined> | undefined;
  let closed: () => void = () => {};

  beforeAll(async () => {
    banner = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(socket: Socket<undefined>) {
          serverSide = socket;
          socket.write("hello");
        },
        data() {},
        close() {
          closed();
        },
      },
    });
    blackhole = await startBlackhole();
  });

  afterAll(async () => {
    banner.stop(true);
    await blackhole.stop();
  });

  for (const [path, room] of [
    ["direct (room in the budget)", 1],
    ["cancellable (no room)", 0],
  ] as const) {
    describe(path, () => {
      test("opens unread: the target's first chunk pauses it, and nothing more is read until resume()", async () => {
        const { budget, open } = opener(room);
        const { seen, events, firstData } = recorder();
        const connection = await open({
          address: "127.0.0.1",
          port: banner.port,
          where: `127.0.0.1:${banner.port}`,
          signal: new AbortController().signal,
          events,
        });
        expect(budget.underWay).toBe(0);
        // Not paused at open (a session attaches its relay in the same turn, and the relay holds
        // what comes before): the banner is read, and reading it pauses the socket.
        expect(new TextDecoder().decode(await firstData)).toBe("hello");
        serverSide?.write("world");
        // A loopback write lands in the peer's receive queue at once; an unpaused socket would
        // then read it on the next turn of the event loop, which the sleeps give it.
        await Bun.sleep(1);
        await Bun.sleep(1);
        expect(seen).toEqual(["data hello"]);
        connection.resume();
        for (let i = 0; i < 100 && seen.length < 2; i++) await Bun.sleep(10);
        expect(seen).toEqual(["data hello", "data world"]);
        const serverClosed = new Promise<void>((resolve) => {
          closed = resolve;
        });
        connection.destroy();
        await serverClosed;
      });

      test("a refused port: connect_failed naming ECONNREFUSED, nothing reaches the events, the budget is whole again", async () => {
        const { budget, open } = opener(room);
        const port = await closedPort();
        const { seen, events } = recorder();
        const error = await rejection(
          open({
            address: "127.0.0.1",
            port,
            where: `127.0.0.1:${port}`,
            signal: new AbortController().signal,
            events,
          }),
        );
        expect(error.code).toBe("connect_failed");
        expect(error.message).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
        expect(seen).toEqual([]);
        expect(budget.underWay).toBe(0);
      });

      test("an already aborted signal: no connect at all, no place taken", async () => {
        const { budget, open } = opener(room);
        const abort = new AbortController();
        abort.abort();
        const error = await rejection(
          open({
            address: "127.0.0.1",
            port: banner.port,
            where: "banner",
            signal: abort.signal,
            events: recorder().events,
          }),
        );
        expect(error.message).toBe("connect abandoned");
        expect(budget.underWay).toBe(0);
      });
    });
  }

  test("cancellable: an abort while the target does not answer releases the descriptor at once", async () => {
    const idle = descriptors();
    const abort = new AbortController();
    const { seen, events } = recorder();
    const opening = opener(0).open({
      address: "127.0.0.1",
      port: blackhole.port,
      where: "blackhole",
      signal: abort.signal,
      events,
    });
    // Past node:net's next tick and ours: the connect is issued and its socket adopted.
    await Bun.sleep(0);
    await Bun.sleep(0);
    expect(descriptors()).toBe(idle + 1);
    abort.abort();
    const error = await rejection(opening);
    expect(error.message).toBe("connect abandoned");
    expect(await descriptorsBackTo(idle)).toBe(idle);
    expect(seen).toEqual([]);
  });

  test("cancellable: an abort in the same tick as the call, before node:net even connects", async () => {
    const idle = descriptors();
    const abort = new AbortController();
    const opening = opener(0).open({
      address: "127.0.0.1",
      port: blackhole.port,
      where: "blackhole",
      signal: abort.signal,
      events: recorder().events,
    });
    abort.abort();
    expect((await rejection(opening)).message).toBe("connect abandoned");
    expect(await descriptorsBackTo(idle)).toBe(idle);
  });

  test("a full budget: the next connect is cancellable; a direct one abandoned keeps its place and descriptor until it opens, then is closed at once", async () => {
    // A target of its own: it starts accepting during the test.
    const silent = await startBlackhole();
    try {
      const idle = descriptors();
      const { budget, open } = opener(1);
      const abort = new AbortController();
      const direct = recorder();
      const first = open({
        address: "127.0.0.1",
        port: silent.port,
        where: "silent",
        signal: abort.signal,
        events: direct.events,
      });
      expect(budget.underWay).toBe(1);
      const second = open({
        address: "127.0.0.1",
        port: silent.port,
        where: "silent",
        signal: abort.signal,
        events: recorder().events,
      });
      await Bun.sleep(0);
      await Bun.sleep(0);
      expect(descriptors()).toBe(idle + 2);
      abort.abort();
      // Past the budget: cancelled at once, its descriptor gone.
      expect((await rejection(second)).message).toBe("connect abandoned");
      expect(await descriptorsBackTo(idle + 1)).toBe(idle + 1);
      expect(budget.underWay).toBe(1);
      // The direct one waits for its target: once it opens, it is closed and its place returned.
      silent.acceptAll();
      expect((await rejection(first)).message).toBe("connection opened after it was abandoned");
      expect(budget.underWay).toBe(0);
      expect(await descriptorsBackTo(idle)).toBe(idle);
      expect(direct.seen).toEqual([]);
    } finally {
      await silent.stop();
    }
  });

  test("no ephemeral port left: connect_failed at once naming EADDRNOTAVAIL, direct or cancellable, not a wait for the deadline", async () => {
    // In a network namespace of its own, where the scenario can narrow the ephemeral port range.
    const result = await runIsolated<{ direct: Outcome; cancellable: Outcome }>(
      new URL("../../tests/helpers/isolated/no-ephemeral-port.ts", import.meta.url),
      null,
    );
    for (const outcome of [result.direct, result.cancellable]) {
      expect(outcome.error).toMatch(/^connect EADDRNOTAVAIL 127\.0\.0\.1:\d+$/);
      expect(outcome.settledWithinMs).toBeLessThan(5000);
    }
  });
});
