import { describe, expect, test } from "bun:test";
import { createConsola, LogLevels } from "consola";
import { portField } from "../adapters/fields.ts";
import {
  defineProtocol,
  type OpenRequest,
  type TargetConnection,
  type TargetEvents,
} from "../adapters/types.ts";
import { createAdmission } from "../admission/admission.ts";
import { createPrincipalAccess } from "../admission/principal-access.ts";
import { createSlots } from "../admission/slots.ts";
import { createCredentialCheck } from "../auth/credentials.ts";
import { createOriginCheck } from "../auth/origin.ts";
import { captureHooks } from "../capture/hooks.ts";
import type { SessionClose } from "../capture/session-capture.ts";
import type { CapturedSession, SessionTap } from "../capture/sink.ts";
import { createClientAddressResolver } from "../net/client-address.ts";
import { mapResolver } from "../net/resolver.ts";
import { createPolicy } from "../policy/policy.ts";
import { CloseCode, CloseReason } from "../protocol/constants.ts";
import { invalidHandshake, ProxyError } from "../protocol/errors.ts";
import { localAddressLimits } from "../state/address-limits.ts";
import type { SessionClient } from "./client.ts";
import type { SessionHooks } from "./hooks.ts";
import type { Selection, TargetChooser } from "./selection.ts";
import { Session, type SessionContext, type SessionSettings } from "./session.ts";
import { protocolStatus, silentStatus } from "./status.ts";

// In-process tests of the state machine with a fake client side and a fake adapter; the real
// WebSocket and TCP paths are covered end to end in tests/e2e.

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A client side that records everything and ends synchronously on close, as Bun's does. */
class FakeClient implements SessionClient {
  texts: string[] = [];
  binaries: Uint8Array[] = [];
  closes: { code: number; reason: string }[] = [];
  paused = false;
  buffered = 0;
  session: Session | undefined;

  sendText(text: string): void {
    this.texts.push(text);
  }
  sendBinary(chunk: Uint8Array): number {
    this.binaries.push(chunk);
    return chunk.byteLength;
  }
  bufferedAmount(): number {
    return this.buffered;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  close(code: number, reason: string): void {
    this.closes.push({ code, reason });
    this.session?.clientClosed(code);
  }
  get statuses(): Record<string, unknown>[] {
    return this.texts.slice(1).map((text) => JSON.parse(text));
  }
}

/** A target connection that records writes and its end. */
class FakeTarget implements TargetConnection {
  written: number[] = [];
  ended = false;
  destroyed = false;
  paused = true;
  /** Bytes the next writes may take in all. */
  accept = Number.POSITIVE_INFINITY;
  constructor(readonly events: TargetEvents) {}
  write(chunk: Uint8Array): number {
    const taken = Math.min(chunk.byteLength, this.accept);
    this.accept -= taken;
    this.written.push(...chunk.subarray(0, taken));
    return taken;
  }
  /** The target took what was pending: its drain event, as an adapter sends it. */
  drain(): void {
    this.events.drain();
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

/** An adapter whose `open` waits until the test settles it. */
function fakeAdapter() {
  const opens: { request: OpenRequest<{ port: number }>; events: TargetEvents }[] = [];
  const pending: Deferred<TargetConnection>[] = [];
  const adapter = defineProtocol<{ port: number }>({
    name: "fake",
    fields: { target_port: portField("Port") },
    endpoint: "network",
    transport: "stream",
    parse: (handshake) => {
      if (typeof handshake.target_port !== "number") throw invalidHandshake("bad port");
      return { port: handshake.target_port };
    },
    locate: ({ port }) => ({ host: "127.0.0.1", port }),
    open(request, events) {
      opens.push({ request, events });
      const next = deferred<TargetConnection>();
      pending.push(next);
      return next.promise;
    },
  });
  /** Waits until `open` has been called, then opens the target. */
  const openTarget = async (): Promise<FakeTarget> => {
    await until(() => opens.length > 0);
    const target = new FakeTarget((opens[0] as (typeof opens)[0]).events);
    (pending[0] as Deferred<TargetConnection>).resolve(target);
    // The session attaches the target one turn after the open settles.
    await Bun.sleep(0);
    return target;
  };
  const failOpen = async (error: unknown) => {
    await until(() => opens.length > 0);
    (pending[0] as Deferred<TargetConnection>).reject(error);
  };
  return { adapter, opens, openTarget, failOpen };
}

/** Lets timers and promises run until `done`, bounded in count. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !done(); i++) await Bun.sleep(1);
  if (!done()) throw new Error("condition not reached");
}

const SETTINGS: SessionSettings = {
  handshakeTimeout: 10,
  maxLifetime: 0,
  idleTimeout: 0,
};

function setup(
  options: {
    settings?: Partial<SessionSettings>;
    fixed?: boolean;
    silent?: boolean;
    refused?: ProxyError;
    hooks?: SessionHooks;
  } = {},
) {
  const fake = fakeAdapter();
  const client = new FakeClient();
  const closed: Session[] = [];
  const released: Session[] = [];
  const logger = createConsola({ level: LogLevels.silent });
  const errors: unknown[] = [];
  logger.error = ((...args: unknown[]) => {
    errors.push(args);
  }) as typeof logger.error;
  const context: SessionContext = {
    settings: { ...SETTINGS, ...options.settings },
    logger,
    flow: { highWater: 1024, lowWater: 256 },
    reach: createAdmission({
      origin: createOriginCheck({ allow: [], require: false }),
      credentials: createCredentialCheck({}),
      clientAddress: createClientAddressResolver([]),
      slots: createSlots({
        maxConnections: 10,
        addresses: localAddressLimits({ rate: 0, burst: 0, maxPerAddress: 0 }),
      }),
      policy: createPolicy({ allow: [], deny: [] }),
      resolver: mapResolver({}),
      connectTimeout: 10,
      accepting: () => true,
      logger,
      access: createPrincipalAccess(undefined, createPolicy({ allow: [], deny: [] })),
    }).reach,
  };
  const selection: Selection = {
    adapter: fake.adapter,
    target: { port: 7 },
    echo: { protocol: "fake", target_port: 7 },
    token: undefined,
  };
  const chooser: TargetChooser = options.refused
    ? { kind: "refused", error: options.refused }
    : options.fixed
      ? { kind: "fixed", selection }
      : {
          kind: "message",
          greeting: "GREETING",
          choose(message) {
            if (typeof message !== "string") throw invalidHandshake("binary");
            const fields = JSON.parse(message) as Record<string, unknown>;
            return { ...selection, target: fake.adapter.parse(fields), echo: fields };
          },
        };
  const session = new Session(context, {
    id: 1,
    client,
    chooser,
    status: options.silent ? silentStatus : protocolStatus(client),
    clientAddress: "127.0.0.1:1",
    frontEnd: "socket2web",
    hooks: [
      {
        closed: () => closed.push(session),
        released: () => released.push(session),
      },
      ...(options.hooks ? [options.hooks] : []),
    ],
  });
  client.session = session;
  return { session, client, closed, released, errors, ...fake };
}

const HANDSHAKE = JSON.stringify({ protocol: "fake", target_port: 7 });

describe("handshake state", () => {
  test("start greets and waits for the handshake", () => {
    const { session, client } = setup();
    session.start();
    expect(client.texts).toEqual(["GREETING"]);
    expect(session.phase).toBe("handshake");
  });

  test("an invalid handshake gets its error status and close code", () => {
    const { session, client, closed } = setup();
    session.start();
    session.message("{}");
    expect(client.statuses).toEqual([
      { status: "error", error: "invalid_handshake", reason: "bad port" },
    ]);
    expect(client.closes).toEqual([{ code: CloseCode.badHandshake, reason: "invalid_handshake" }]);
    expect(session.phase).toBe("closed");
    expect(closed).toEqual([session]);
    expect(session.finished.error).toBe("invalid_handshake");
    expect(session.finished.closedBy).toBe("server");
  });

  test("no handshake in time: handshake_timeout, 4408", async () => {
    const { session, client } = setup({ settings: { handshakeTimeout: 0.01 } });
    session.start();
    await until(() => client.closes.length > 0);
    expect(client.statuses[0]?.error).toBe("handshake_timeout");
    expect(client.closes[0]?.code).toBe(CloseCode.handshakeTimeout);
  });

  test("the client closing ends the session once, with its code", () => {
    const { session, closed } = setup();
    session.start();
    session.clientClosed(1000);
    session.clientClosed(1006);
    expect(session.phase).toBe("closed");
    expect(closed).toHaveLength(1);
    expect(session.finished.closeCode).toBe(1000);
    expect(session.finished.closedBy).toBe("client");
  });

  test("shutdown closes it with 1001", () => {
    const { session, client } = setup();
    session.start();
    session.shutdown();
    expect(client.closes).toEqual([
      { code: CloseCode.goingAway, reason: CloseReason.shuttingDown },
    ]);
    expect(session.phase).toBe("closed");
  });
});

describe("connecting state", () => {
  test("a valid handshake opens the target at a checked address; bytes sent meanwhile wait", async () => {
    const { session, client, opens } = setup();
    session.start();
    session.message(HANDSHAKE);
    expect(session.phase).toBe("connecting");
    session.message(new Uint8Array([1, 2, 3]));
    expect(session.pendingToTarget).toBe(3);
    await until(() => opens.length > 0);
    expect(opens[0]?.request.location).toEqual({ kind: "network", address: "127.0.0.1", port: 7 });
    expect(client.statuses).toEqual([]);
  });

  test("the target opens: connected status, proxying, early bytes delivered first", async () => {
    const { session, client, openTarget } = setup();
    session.start();
    session.message(HANDSHAKE);
    session.message("ab");
    const target = await openTarget();
    expect(session.phase).toBe("proxying");
    expect(client.statuses).toEqual([{ status: "connected", protocol: "fake", target_port: 7 }]);
    expect(target.written).toEqual([97, 98]);
    expect(target.paused).toBe(false);
  });

  test("the client closes while the target opens: the target gets the bytes, then end", async () => {
    const { session, client, openTarget, closed } = setup();
    session.start();
    session.message(HANDSHAKE);
    session.message("xyz");
    session.clientClosed(1000);
    expect(session.phase).toBe("closed");
    expect(closed).toHaveLength(1);
    const target = await openTarget();
    expect(target.written).toEqual([120, 121, 122]);
    expect(target.ended).toBe(true);
    expect(client.statuses).toEqual([]);
  });

  test("a refused target: connect_failed status and 4502", async () => {
    const { session, client, failOpen } = setup();
    session.start();
    session.message(HANDSHAKE);
    await failOpen(new ProxyError("connect_failed", "connect ECONNREFUSED 127.0.0.1:7"));
    await until(() => client.closes.length > 0);
    expect(client.statuses).toEqual([
      { status: "error", error: "connect_failed", reason: "connect ECONNREFUSED 127.0.0.1:7" },
    ]);
    expect(client.closes[0]?.code).toBe(CloseCode.connectFailed);
  });

  test("an adapter that throws (a bug) closes with 1011 internal error, no status, logged", async () => {
    const { session, client, failOpen, errors } = setup();
    session.start();
    session.message(HANDSHAKE);
    await failOpen(new TypeError("adapter bug"));
    await until(() => client.closes.length > 0);
    expect(client.statuses).toEqual([]);
    expect(client.closes).toEqual([
      { code: CloseCode.internalError, reason: CloseReason.internalError },
    ]);
    expect(errors).toHaveLength(1);
    expect(session.finished.error).toBeUndefined();
  });

  test("an adapter that fails after the client left is only logged", async () => {
    const { session, client, failOpen } = setup();
    session.start();
    session.message(HANDSHAKE);
    session.clientClosed(1000);
    await failOpen(new ProxyError("connect_failed", "refused"));
    await Bun.sleep(0);
    expect(client.texts).toEqual(["GREETING"]);
    expect(client.closes).toEqual([]);
  });

  test("shutdown closes it with 1001, and the target still gets the client's bytes", async () => {
    const { session, client, openTarget } = setup();
    session.start();
    session.message(HANDSHAKE);
    session.message("q");
    session.shutdown();
    expect(client.closes[0]?.code).toBe(CloseCode.goingAway);
    const target = await openTarget();
    expect(target.written).toEqual([113]);
    expect(target.ended).toBe(true);
  });
});

describe("proxying state", () => {
  async function proxying(options: Parameters<typeof setup>[0] = {}) {
    const parts = setup(options);
    parts.session.start();
    if (!options.fixed) parts.session.message(HANDSHAKE);
    const target = await parts.openTarget();
    return { ...parts, target };
  }

  test("bytes flow both ways", async () => {
    const { session, client, target } = await proxying();
    session.message(new Uint8Array([5, 6]));
    target.events.data(new Uint8Array([7]));
    expect(target.written).toEqual([5, 6]);
    expect(client.binaries).toEqual([new Uint8Array([7])]);
    expect(session.bytesFromClient).toBe(2);
    expect(session.bytesFromTarget).toBe(1);
  });

  test("the target's end of stream closes the client with 1000", async () => {
    const { client, target, session } = await proxying();
    target.events.data(new Uint8Array([1]));
    target.events.end();
    expect(client.binaries).toHaveLength(1);
    expect(client.closes).toEqual([{ code: CloseCode.normal, reason: CloseReason.targetClosed }]);
    expect(session.phase).toBe("closed");
    expect(session.finished.bytesFromTarget).toBe(1);
    expect(session.finished.closedBy).toBe("target");
  });

  test("a target failure closes with 1011 and its code", async () => {
    const { client, target } = await proxying();
    target.events.error(Object.assign(new Error("reset"), { code: "ECONNRESET" }));
    expect(client.closes[0]).toEqual({ code: 1011, reason: "target failed: ECONNRESET" });
  });

  test("the client closing ends the target after its bytes", async () => {
    const { session, target } = await proxying();
    session.message("z");
    session.clientClosed(1000);
    expect(target.written).toEqual([122]);
    expect(target.ended).toBe(true);
    expect(target.destroyed).toBe(false);
  });

  test("shutdown freezes both sides and stays proxying until closed", async () => {
    const { session, client, target } = await proxying();
    session.shutdown();
    expect(session.phase).toBe("proxying");
    expect(client.paused).toBe(true);
    expect(target.paused).toBe(true);
    session.clientDrained();
    expect(target.paused).toBe(true);
    session.close(CloseCode.goingAway, CloseReason.shuttingDown);
    expect(session.phase).toBe("closed");
    expect(target.ended).toBe(true);
  });

  test("shutdown and close in the closed state do nothing", async () => {
    const { session, client } = await proxying();
    session.clientClosed(1006);
    session.shutdown();
    session.close(1000, "again");
    expect(client.closes).toEqual([]);
    expect(session.bufferedToClient).toBe(0);
  });

  test("max lifetime closes with 4000", async () => {
    const { client } = await proxying({ settings: { maxLifetime: 0.01 } });
    await until(() => client.closes.length > 0);
    expect(client.closes[0]).toEqual({ code: 4000, reason: CloseReason.maxLifetime });
  });

  test("idle timeout closes with 4001 when nothing moves", async () => {
    const { client } = await proxying({ settings: { idleTimeout: 0.01 } });
    await until(() => client.closes.length > 0);
    expect(client.closes[0]).toEqual({ code: 4001, reason: CloseReason.idleTimeout });
  });
});

describe("a target chosen before the session (raw sessions)", () => {
  test("no greeting, straight to connecting; a silent status sends no frame", async () => {
    const { session, client, openTarget } = setup({ fixed: true, silent: true });
    session.start();
    expect(session.phase).toBe("connecting");
    const target = await openTarget();
    expect(session.phase).toBe("proxying");
    expect(client.texts).toEqual([]);
    target.events.data(new Uint8Array([1]));
    expect(client.binaries).toHaveLength(1);
  });

  test("a failure closes with its code and sends nothing", async () => {
    const { session, client, failOpen } = setup({ fixed: true, silent: true });
    session.start();
    await failOpen(new ProxyError("connect_timeout", "slow"));
    await until(() => client.closes.length > 0);
    expect(client.texts).toEqual([]);
    expect(client.closes[0]?.code).toBe(CloseCode.connectTimeout);
  });
});

describe("a choice refused before the session (an invalid URL-form handshake)", () => {
  test("no greeting: the error status, then its close code; nothing is opened", () => {
    const { session, client, opens } = setup({ refused: invalidHandshake("target_port") });
    session.start();
    expect(client.texts).toHaveLength(1);
    expect(JSON.parse(client.texts[0] as string)).toEqual({
      status: "error",
      error: "invalid_handshake",
      reason: "target_port",
    });
    expect(client.closes).toEqual([{ code: CloseCode.badHandshake, reason: "invalid_handshake" }]);
    expect(opens).toHaveLength(0);
    expect(session.finished.error).toBe("invalid_handshake");
  });
});

/** A capture that records what the session's capture hooks hand it. */
function recordingCapture() {
  const opened: CapturedSession[] = [];
  const client: number[] = [];
  const target: number[] = [];
  const closes: SessionClose[] = [];
  const tap: SessionTap = {
    clientBytes: (chunk) => client.push(...chunk),
    targetBytes: (chunk) => target.push(...chunk),
    close: (close) => closes.push(close),
  };
  const hooks = captureHooks(
    {
      open: (session: CapturedSession) => {
        opened.push(session);
        return tap;
      },
      settled: async () => {},
    } as unknown as Parameters<typeof captureHooks>[0],
    1,
    { address: "127.0.0.1", port: 1 },
  );
  return { hooks, opened, client, target, closes };
}

describe("capture (--capture)", () => {
  test("opens once connected, sees what the target took and sent, and the client's close", async () => {
    const capture = recordingCapture();
    const { session, openTarget } = setup({ hooks: capture.hooks });
    session.start();
    session.message(HANDSHAKE);
    session.message(new Uint8Array([1, 2]));
    expect(capture.opened).toEqual([]);
    const target = await openTarget();
    expect(capture.opened).toEqual([
      {
        sessionId: 1,
        protocol: "fake",
        transport: "tcp",
        client: { address: "127.0.0.1", port: 1 },
        target: { address: "127.0.0.1", port: 7 },
        targetHost: undefined,
      },
    ]);
    session.message(new Uint8Array([3]));
    target.events.data(new Uint8Array([9, 8]));
    expect(capture.client).toEqual([1, 2, 3]);
    expect(capture.target).toEqual([9, 8]);
    session.clientClosed(1000, "bye");
    expect(capture.closes).toEqual([{ code: 1000, reason: "bye", how: "client-end" }]);
  });

  test.each([
    ["end", "target-end", CloseCode.normal, CloseReason.targetClosed],
    ["error", "target-reset", CloseCode.internalError, `${CloseReason.targetFailed}: ECONNRESET`],
  ] as const)(
    "a target %s closes the capture as %s with the close code and reason",
    async (event, how, code, reason) => {
      const capture = recordingCapture();
      const { session, openTarget } = setup({ hooks: capture.hooks });
      session.start();
      session.message(HANDSHAKE);
      const target = await openTarget();
      if (event === "end") target.events.end();
      else target.events.error(Object.assign(new Error("reset"), { code: "ECONNRESET" }));
      expect(capture.closes).toEqual([{ code, reason, how }]);
    },
  );

  test("a client gone before the target opened gets no capture", async () => {
    const capture = recordingCapture();
    const { session, openTarget } = setup({ hooks: capture.hooks });
    session.start();
    session.message(HANDSHAKE);
    session.clientClosed(1000);
    const target = await openTarget();
    expect(target.ended).toBe(true);
    expect(capture.opened).toEqual([]);
    expect(capture.closes).toEqual([]);
  });
});

describe("released: nothing of the session is held any more", () => {
  test("only once the client has gone and the target has had every byte and was ended", async () => {
    const { session, openTarget, released } = setup();
    session.start();
    session.message(HANDSHAKE);
    const target = await openTarget();
    target.accept = 0;
    session.message(new Uint8Array(100));
    session.clientClosed(1000);
    expect(session.phase).toBe("closed");
    expect(released).toEqual([]);
    target.accept = Number.POSITIVE_INFINITY;
    target.drain();
    expect(target.ended).toBe(true);
    expect(released).toEqual([session]);
  });

  test("at once for a session that never opened a target, and after a failed connect", async () => {
    const first = setup();
    first.session.start();
    first.session.clientClosed(1000);
    expect(first.released).toEqual([first.session]);
    const second = setup();
    second.session.start();
    second.session.message(HANDSHAKE);
    second.session.clientClosed(1000);
    expect(second.released).toEqual([]);
    await second.failOpen(new ProxyError("connect_failed", "refused"));
    await until(() => second.released.length === 1);
  });

  test("every observer is told once, in the order of the list", () => {
    const told: string[] = [];
    const { session, closed, released } = setup({
      hooks: {
        closed: () => told.push(`closed after ${closed.length}`),
        released: () => told.push(`released after ${released.length}`),
      },
    });
    session.start();
    session.clientClosed(1000);
    // The setup's own observer is first in the list: each event reaches it before this one.
    expect(told).toEqual(["closed after 1", "released after 1"]);
  });
});
