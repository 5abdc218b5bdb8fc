import { expect } from "bun:test";
import type { Socket } from "bun";

// Measuring a bandwidth limit: loopback targets that sink or flood bytes as fast as they can, a
// Socket2Web client that floods or reads, and a meter that tells a limit's rate from its bursts.

export const MB = 1_000_000;
const CHUNK = 64 * 1024;

/**
 * A chunk that arrives this long after the one before starts a new burst: a limit lets bytes
 * through in bursts (a socket read, a Wisp credit window) and then stops reading for their time.
 */
const BURST_GAP_MS = 3;

/**
 * Bytes as they arrive somewhere, and their rate from the first byte to the last burst: a limit
 * lets a burst through, then waits the time it takes at the rate, so the bytes before the last
 * burst are those whose time has passed (the last burst's is still to come).
 */
export class Meter {
  /** `sum`: a meter of several streams, each with its own, that sees every byte of this one too. */
  constructor(private readonly sum?: Meter) {}
  bytes = 0;
  first = 0;
  last = 0;
  /** When the last burst began, and the bytes before it. */
  burstAt = 0;
  beforeBurst = 0;
  /** Each chunk's arrival and the bytes so far with it, for `steadyRate`. */
  private readonly times: number[] = [];
  private readonly totals: number[] = [];
  add(n: number): void {
    const now = performance.now();
    if (this.bytes === 0) this.first = now;
    if (now - this.last >= BURST_GAP_MS) {
      this.burstAt = now;
      this.beforeBurst = this.bytes;
    }
    this.bytes += n;
    this.last = now;
    this.times.push(now);
    this.totals.push(this.bytes);
    this.sum?.add(n);
  }
  get rate(): number {
    return (this.beforeBurst * 1000) / (this.burstAt - this.first);
  }
  get seconds(): number {
    return (this.last - this.first) / 1000;
  }

  /**
   * The slope of the bytes so far against time, fitted (least squares) to every chunk that
   * arrived at `since` (a `performance.now()` time) or later. A limit delivers in steps of one
   * read (up to 512 KiB, a quarter second at 2 MB/s), so the bytes between two instants depend on
   * where in a step each falls, and a busy machine can split a step's chunks with a pause that
   * looks like a new step. The fit takes in every step, so neither end of the window decides it.
   * Start it once the limit holds: each session under a shared limit reads once ahead of it (the
   * same amount from then on, so the slope is the rate the limit keeps).
   */
  steadyRate(since: number): number {
    const from = this.times.findIndex((time) => time >= since);
    if (from < 0 || this.times.length - from < 2) return Number.NaN;
    let n = 0;
    let meanT = 0;
    let meanB = 0;
    for (let i = from; i < this.times.length; i++) {
      n++;
      meanT += ((this.times[i] as number) - meanT) / n;
      meanB += ((this.totals[i] as number) - meanB) / n;
    }
    let covariance = 0;
    let variance = 0;
    for (let i = from; i < this.times.length; i++) {
      const dt = (this.times[i] as number) - meanT;
      covariance += dt * ((this.totals[i] as number) - meanB);
      variance += dt * dt;
    }
    return variance === 0 ? Number.NaN : (covariance / variance) * 1000;
  }

  /** Seconds of chunks `steadyRate(since)` fits so far. */
  steadySeconds(since: number): number {
    const from = this.times.findIndex((time) => time >= since);
    return from < 0 ? 0 : (this.last - (this.times[from] as number)) / 1000;
  }
}

/** A TCP target that counts what it receives (into `meter`, shared or its own). */
export function sinkTarget(meter = new Meter()) {
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: { data: (_, chunk) => meter.add(chunk.byteLength), error() {} },
  });
  return { port: listener.port, meter, stop: () => listener.stop(true) };
}

/** A TCP target that sends as fast as its client reads, until stopped. */
export function sourceTarget() {
  const chunk = new Uint8Array(CHUNK);
  let stopped = false;
  const flood = (socket: Socket<unknown>) => {
    for (let i = 0; i < 256 && !stopped; i++) {
      if (socket.write(chunk) < CHUNK) return;
    }
    if (!stopped) setImmediate(() => flood(socket));
  };
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: { open: flood, drain: flood, data() {}, error() {} },
  });
  return {
    port: listener.port,
    stop: () => {
      stopped = true;
      listener.stop(true);
    },
  };
}

export interface FloodClient {
  readonly ws: WebSocket;
  /** What the target sent, as it arrived. */
  readonly received: Meter;
  /** Sends as fast as the proxy takes, until `stop`. */
  flood(): void;
  stop(): void;
}

/**
 * A session through Socket2Web's own protocol at `url` to `port` on loopback, with `token` as its
 * credential; `received` counts into the given meter (default its own).
 */
export async function openFloodSession(
  url: string,
  token: string,
  port: number,
  received = new Meter(),
): Promise<FloodClient> {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const texts: string[] = [];
  let stopped = false;
  const connected = new Promise<void>((resolve, reject) => {
    ws.onmessage = (event) => {
      if (typeof event.data === "string") {
        texts.push(event.data);
        if (texts.length === 1) {
          ws.send(
            JSON.stringify({ protocol: "tcp", target_ip: "127.0.0.1", target_port: port, token }),
          );
        } else if (JSON.parse(event.data).status === "connected") resolve();
        else reject(new Error(event.data));
      } else received.add((event.data as ArrayBuffer).byteLength);
    };
    ws.onclose = () => reject(new Error("closed before connected"));
  });
  await connected;
  const chunk = new Uint8Array(CHUNK);
  const pump = () => {
    if (stopped || ws.readyState !== WebSocket.OPEN) return;
    for (let i = 0; i < 1024 && ws.bufferedAmount < 4 * 1024 * 1024; i++) ws.send(chunk);
    setTimeout(pump, 1);
  };
  return {
    ws,
    received,
    flood: pump,
    stop: () => {
      stopped = true;
      ws.close();
    },
  };
}

/** Resolves once `condition` holds (bounded). */
export async function until(
  condition: () => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

/** Runs until `meter` has seen `seconds` of traffic, and returns its rate. */
export async function measure(meter: Meter, seconds: number): Promise<number> {
  await until(() => meter.bytes > 0 && meter.seconds >= seconds, `${seconds} s of traffic`);
  return meter.rate;
}

export function mbps(rate: number): string {
  return `${(rate / MB).toFixed(3)} MB/s`;
}

/** Within ±10 % of `rate`. */
export function expectNear(measured: number, rate: number): void {
  expect(measured, `${mbps(measured)} for a limit of ${mbps(rate)}`).toBeGreaterThan(rate * 0.9);
  expect(measured, `${mbps(measured)} for a limit of ${mbps(rate)}`).toBeLessThan(rate * 1.1);
}
