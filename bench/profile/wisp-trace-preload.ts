// `bun --preload bench/profile/wisp-trace-preload.ts src/main.ts --wisp /wisp/ …`: where a Wisp
// connection's bytes wait, traced from inside the server. Loaded only when asked (nothing in
// src/ knows of it, so it costs nothing when off): it wraps the prototypes of the Wisp and relay
// classes and counts. SIGUSR2 prints one JSON line of what was counted since the last SIGUSR2 to
// stderr and starts afresh (bench/profile/wisp-trace.ts sends one at each end of its window).
// WISP_TRACE_SRC names another checkout's src/ to trace (the server run from it).
const SRC = process.env.WISP_TRACE_SRC ?? new URL("../../src/", import.meta.url).pathname;
const { BaseRelay } = (await import(
  `${SRC}relay/base-relay.ts`
)) as typeof import("../../src/relay/base-relay.ts");
const { StreamRelay } = (await import(
  `${SRC}relay/stream-relay.ts`
)) as typeof import("../../src/relay/stream-relay.ts");
const { WispConnection } = (await import(
  `${SRC}wisp/connection.ts`
)) as typeof import("../../src/wisp/connection.ts");
const { StreamCredit } = (await import(
  `${SRC}wisp/credit.ts`
)) as typeof import("../../src/wisp/credit.ts");
const { ReadGate } = (await import(
  `${SRC}wisp/read-gate.ts`
)) as typeof import("../../src/wisp/read-gate.ts");
const { WispStream } = (await import(
  `${SRC}wisp/stream.ts`
)) as typeof import("../../src/wisp/stream.ts");
type StreamCredit = InstanceType<typeof StreamCredit>;

/** Sizes bucketed by powers of two: "≤16K" → count. */
class Sizes {
  count = 0;
  bytes = 0;
  readonly buckets = new Map<number, number>();
  add(size: number): void {
    this.count++;
    this.bytes += size;
    const bucket = 2 ** Math.ceil(Math.log2(Math.max(1, size)));
    this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + 1);
  }
  toJSON() {
    const kib = (b: number) => (b >= 1024 ? `${b / 1024}K` : `${b}`);
    return {
      count: this.count,
      meanBytes: this.count ? Math.round(this.bytes / this.count) : 0,
      upTo: Object.fromEntries(
        [...this.buckets.entries()].sort((a, b) => a[0] - b[0]).map(([b, n]) => [kib(b), n]),
      ),
    };
  }
}

/** Time spent in a state, summed over every object that enters it. */
class Dwell {
  private readonly since = new Map<object, number>();
  entered = 0;
  ms = 0;
  enter(key: object): void {
    if (this.since.has(key)) return;
    this.entered++;
    this.since.set(key, performance.now());
  }
  leave(key: object): void {
    const at = this.since.get(key);
    if (at === undefined) return;
    this.since.delete(key);
    this.ms += performance.now() - at;
  }
  /** Counts what is still in the state up to now, and restarts its clock. */
  settle(): void {
    const now = performance.now();
    for (const [key, at] of this.since) {
      this.ms += now - at;
      this.since.set(key, now);
    }
  }
  reset(): void {
    this.entered = 0;
    this.ms = 0;
  }
  toJSON() {
    return { entered: this.entered, ms: Math.round(this.ms) };
  }
}

function fresh() {
  return {
    startedAt: performance.now(),
    /** WebSocket messages from the clients, and how many arrived in one turn of the event loop. */
    messages: new Sizes(),
    messagesPerTurn: new Sizes(),
    /** DATA packets to the clients (each a target read), and the WebSocket queue after each. */
    dataToClient: new Sizes(),
    sendsQueued: 0,
    bufferedAfterSend: new Sizes(),
    bufferedMax: 0,
    drains: 0,
    /** Writes into the target sockets: offered sizes, partial and refused ones. */
    targetWrites: new Sizes(),
    targetWritesPartial: 0,
    targetWritesRefused: 0,
    targetDrains: 0,
    /** CONTINUE grants: packets granted each, and the state of the credit when granted. */
    grants: new Sizes(),
    heldAtGrant: new Sizes(),
    outstandingAtGrant: new Sizes(),
    packetsReceived: 0,
    /** The server's bound of the client's credit at 0: the client cannot send on that stream. */
    noCredit: new Dwell(),
    /** The stream's client side held back for its target's backlog (no CONTINUE meanwhile). */
    streamBlocked: new Dwell(),
    /** The target not read for the client's backlog. */
    targetPaused: new Dwell(),
    /** The WebSocket not read, per reason. */
    wsPaused: { "held-bytes": new Dwell(), outbound: new Dwell(), authenticating: new Dwell() },
  };
}

let trace = fresh();

// --- client → server messages, and turns of the event loop ---
let inTurn = 0;
let turnScheduled = false;
const endTurn = () => {
  trace.messagesPerTurn.add(inTurn);
  inTurn = 0;
  turnScheduled = false;
};
const message = WispConnection.prototype.message;
WispConnection.prototype.message = function (data) {
  trace.messages.add(data.length);
  inTurn++;
  if (!turnScheduled) {
    turnScheduled = true;
    setImmediate(endTurn);
  }
  message.call(this, data);
};
const drain = WispConnection.prototype.drain;
WispConnection.prototype.drain = function () {
  trace.drains++;
  drain.call(this);
};

// --- DATA to the client ---
const sendBinary = WispStream.prototype.sendBinary;
WispStream.prototype.sendBinary = function (chunk) {
  const sent = sendBinary.call(this, chunk);
  trace.dataToClient.add(chunk.byteLength);
  if (sent < 0) trace.sendsQueued++;
  const buffered = this.bufferedAmount();
  trace.bufferedAfterSend.add(buffered);
  trace.bufferedMax = Math.max(trace.bufferedMax, buffered);
  return sent;
};
const pause = WispStream.prototype.pause;
WispStream.prototype.pause = function () {
  trace.streamBlocked.enter(this);
  pause.call(this);
};
const resume = WispStream.prototype.resume;
WispStream.prototype.resume = function () {
  trace.streamBlocked.leave(this);
  resume.call(this);
};

// --- credit ---
type CreditInternals = { outstanding: number };
const outstandingOf = (credit: StreamCredit) => (credit as unknown as CreditInternals).outstanding;
const received = StreamCredit.prototype.received;
StreamCredit.prototype.received = function (size) {
  const ok = received.call(this, size);
  trace.packetsReceived++;
  if (outstandingOf(this) === 0) trace.noCredit.enter(this);
  return ok;
};
const grant = StreamCredit.prototype.grant;
StreamCredit.prototype.grant = function () {
  const held = this.held;
  const outstanding = outstandingOf(this);
  const value = grant.call(this);
  if (value !== undefined) {
    trace.grants.add(value);
    trace.heldAtGrant.add(held);
    trace.outstandingAtGrant.add(outstanding);
    trace.noCredit.leave(this);
  }
  return value;
};

// --- writes into the targets ---
type Writer = { write(target: unknown, chunk: Uint8Array): number };
const relayProto = BaseRelay.prototype as unknown as Writer;
const write = relayProto.write;
relayProto.write = function (target, chunk) {
  const written = write.call(this, target, chunk);
  trace.targetWrites.add(chunk.byteLength);
  if (written === 0) trace.targetWritesRefused++;
  else if (written < chunk.byteLength) trace.targetWritesPartial++;
  return written;
};
const targetDrained = BaseRelay.prototype.targetDrained;
BaseRelay.prototype.targetDrained = function () {
  trace.targetDrains++;
  targetDrained.call(this);
};

// --- the target not read for the client's backlog ---
type Gated = { targetGate: { has(reason: string): boolean } };
const watchTargetGate = (name: "sendToClient" | "clientDrained") => {
  const proto = StreamRelay.prototype as unknown as Record<string, (...args: unknown[]) => void>;
  const original = proto[name] as (...args: unknown[]) => void;
  proto[name] = function (this: Gated, ...args: unknown[]) {
    original.apply(this, args);
    if (this.targetGate.has("backlog")) trace.targetPaused.enter(this);
    else trace.targetPaused.leave(this);
  };
};
watchTargetGate("sendToClient");
watchTargetGate("clientDrained");

// --- the WebSocket not read ---
const hold = ReadGate.prototype.hold;
ReadGate.prototype.hold = function (reason, on) {
  hold.call(this, reason, on);
  const dwell = trace.wsPaused[reason];
  if (this.has(reason)) dwell.enter(this);
  else dwell.leave(this);
};

process.on("SIGUSR2", () => {
  const seconds = (performance.now() - trace.startedAt) / 1000;
  for (const dwell of [
    trace.noCredit,
    trace.streamBlocked,
    trace.targetPaused,
    ...Object.values(trace.wsPaused),
  ])
    dwell.settle();
  const cpu = process.cpuUsage();
  process.stderr.write(`WISP-TRACE ${JSON.stringify({ seconds, cpuMicros: cpu, ...trace })}\n`);
  const next = fresh();
  // States entered before the window keep their clocks (settled to now), counted from here.
  for (const key of ["noCredit", "streamBlocked", "targetPaused"] as const) {
    next[key] = trace[key];
    next[key].reset();
  }
  for (const reason of Object.keys(trace.wsPaused) as (keyof typeof trace.wsPaused)[]) {
    next.wsPaused[reason] = trace.wsPaused[reason];
    next.wsPaused[reason].reset();
  }
  trace = next;
});
