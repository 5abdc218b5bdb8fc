import { mkdirSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { join } from "node:path";
import { parseAddress } from "../net/address.ts";
import { ruleMatches } from "../policy/match.ts";
import type { Rule } from "../policy/rule.ts";
import {
  type CaptureTotal,
  createDiskBudget,
  type DiskBudget,
  resolveCaptureTotal,
} from "./budget.ts";
import { MAX_TCP_PAYLOAD } from "./packets.ts";
import {
  type CaptureEndpoint,
  MIN_CAPTURE_BYTES,
  SessionCapture,
  type SessionClose,
  type Side,
  type Transport,
} from "./session-capture.ts";

/**
 * The server's capture: one pcapng file per session in a directory, written in the background.
 * A session only hands chunks to its tap; encoding and writing happen later, off its path, so
 * capture never slows or stops a session. Each file's queue is bounded: past it, or on any write
 * error, that session's capture stops with one log line. All files together stay within
 * `--capture-max-total`: each file holds a lease on the budget, grown before it writes; once the
 * budget is spent, running files are cut (with a comment saying why) and new sessions are not
 * captured. Files are never deleted: the first evidence is kept, not overwritten by the latest.
 */

export interface CaptureSettings {
  readonly dir: string;
  /** Largest file per session, in bytes; later data is left out and the file says so. */
  readonly maxBytes: number;
  /** Capture only sessions whose target matches one of these rules (`--allow` syntax); empty: all. */
  readonly filter: readonly Rule[];
  /** Most bytes of capture files in the directory, the files already there included. */
  readonly maxTotal: CaptureTotal;
  /** Processes writing into the directory (--workers): each takes an equal share of the total. */
  readonly workers: number;
}

export interface CapturedSession {
  readonly sessionId: number;
  /** The adapter's name, such as `tcp`. */
  readonly protocol: string;
  readonly transport: Transport;
  readonly client: CaptureEndpoint;
  /** The address and port actually connected. */
  readonly target: CaptureEndpoint;
  /** The host name the client asked for, when it gave one rather than an address. */
  readonly targetHost?: string | undefined;
}

/** What a session calls as bytes move and when it ends; never throws, never waits. */
export interface SessionTap {
  clientBytes(chunk: Uint8Array): void;
  targetBytes(chunk: Uint8Array): void;
  close(close: SessionClose): void;
}

export interface CaptureLogger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

/** What the metrics hear of the capture (ProxyMetrics is one). */
export interface CaptureObserver {
  /** Bytes written into capture files. */
  captureWritten(bytes: number): void;
  /** A session the filter selected was not captured: --capture-max-total was reached. */
  captureSkipped(): void;
}

/** Encoded bytes gathered into one write. */
const WRITE_BATCH_BYTES = 1024 * 1024;

/** Bytes a session's file may have waiting for the disk before its capture stops. */
export const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/** A file's lease grows by at least this much: few calls for a fast session, little held idle. */
const LEASE_STEP = 64 * 1024;

/** More than the pcapng blocks around one segment (data block, headers, padding, its ACK). */
const SEGMENT_OVERHEAD = 512;

/** At most the bytes `payload` becomes in the file, for a lease to cover before encoding it. */
const encodedBound = (payload: number) =>
  payload + SEGMENT_OVERHEAD * (Math.ceil(payload / MAX_TCP_PAYLOAD) + 1);

export interface Capture {
  /** A tap for this session, or undefined when the filter leaves it out. */
  open(session: CapturedSession): SessionTap | undefined;
  /** Resolves once every file opened so far is written and closed. */
  settled(): Promise<void>;
}

/** Creates the directory (mode 0700) when missing; throws if it cannot. */
export function createCapture(
  settings: CaptureSettings,
  logger: CaptureLogger,
  observer?: CaptureObserver,
): Capture {
  mkdirSync(settings.dir, { recursive: true, mode: 0o700 });
  const resolved = resolveCaptureTotal(settings.maxTotal, settings.dir, settings.workers);
  const budget = createDiskBudget(resolved.limit, () =>
    logger.warn(
      `capture: --capture-max-total reached (${resolved.limit} bytes for this process):` +
        " captures under way are cut, new sessions are not captured; the files are kept" +
        " (restart to capture again)",
    ),
  );
  const share =
    settings.workers > 1 ? ` (this worker's share of ${resolved.total - resolved.existing})` : "";
  logger.info(
    `capture: one pcapng file per session into ${settings.dir}, at most ${resolved.total} bytes in all` +
      ` (--capture-max-total ${settings.maxTotal}); ${resolved.existing} bytes there already,` +
      ` ${resolved.limit} bytes left${share}`,
  );
  const writing = new Set<Promise<void>>();
  return {
    open(session) {
      if (!matchesFilter(settings.filter, session)) return undefined;
      if (!budget.take(MIN_CAPTURE_BYTES)) {
        observer?.captureSkipped();
        return undefined;
      }
      const file = new CaptureFile(settings, session, logger, budget, observer);
      const done = file.done.finally(() => writing.delete(done));
      writing.add(done);
      return file;
    },
    async settled() {
      await Promise.all(writing);
    },
  };
}

export function matchesFilter(filter: readonly Rule[], session: CapturedSession): boolean {
  if (filter.length === 0) return true;
  const address = parseAddress(session.target.address);
  if (!address) return false;
  const target = {
    host: session.targetHost,
    address,
    port: session.target.port,
    protocol: session.protocol,
  };
  // A capture filter selects, like an allow rule: a rule naming another protocol does not match.
  return filter.some((rule) => ruleMatches(rule, target, "allow"));
}

/** A file name that says when, which session and where to, safe on any file system. */
export function captureFileName(session: CapturedSession, startedAt: Date): string {
  const time = startedAt
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  const target = `${session.targetHost ?? session.target.address}-${session.target.port}`;
  const safe = (text: string) => text.replace(/[^A-Za-z0-9.-]+/g, "_");
  return `${time}-${process.pid}-${session.sessionId}-${safe(session.protocol)}-${safe(target)}.pcapng`;
}

type Entry =
  | {
      readonly kind: "data";
      readonly side: Side;
      readonly bytes: Uint8Array;
      readonly micros: number;
    }
  | {
      readonly kind: "skipped";
      readonly side: Side;
      readonly length: number;
      readonly micros: number;
    }
  | { readonly kind: "close"; readonly close: SessionClose; readonly micros: number };

const nowMicros = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

class CaptureFile implements SessionTap {
  readonly done: Promise<void>;
  private readonly encoder: SessionCapture;
  /** Bytes of the budget this file holds: MIN_CAPTURE_BYTES from open, grown before each write. */
  private lease = MIN_CAPTURE_BYTES;
  /** Bytes actually written to the file. */
  private written = 0;
  private readonly queue: Entry[] = [];
  private queuedBytes = 0;
  /** Payload bytes accepted for encoding: past maxBytes they cannot fit in the file anyway. */
  private accepted = 0;
  private stopped = false;
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly settings: CaptureSettings,
    private readonly session: CapturedSession,
    private readonly logger: CaptureLogger,
    private readonly budget: DiskBudget,
    private readonly observer: CaptureObserver | undefined,
  ) {
    const target = session.targetHost
      ? `${session.targetHost} (${session.target.address}) port ${session.target.port}`
      : `${session.target.address} port ${session.target.port}`;
    this.encoder = new SessionCapture({
      client: session.client,
      target: session.target,
      transport: session.transport,
      maxBytes: settings.maxBytes,
      comments: [
        `socket2web session ${session.sessionId}: client ${session.client.address} port ${session.client.port}` +
          ` to ${session.protocol} target ${target}`,
      ],
    });
    const path = join(settings.dir, captureFileName(session, new Date()));
    this.done = this.run(path, nowMicros());
  }

  clientBytes(chunk: Uint8Array): void {
    this.push("client", chunk);
  }

  targetBytes(chunk: Uint8Array): void {
    this.push("target", chunk);
  }

  close(close: SessionClose): void {
    if (this.closed) return;
    this.closed = true;
    this.enqueue({ kind: "close", close, micros: nowMicros() }, 0);
  }

  private push(side: Side, chunk: Uint8Array): void {
    if (this.closed || this.stopped || chunk.byteLength === 0) return;
    const micros = nowMicros();
    if (this.accepted >= this.settings.maxBytes) {
      this.enqueue({ kind: "skipped", side, length: chunk.byteLength, micros }, 0);
      return;
    }
    if (this.queuedBytes + chunk.byteLength > MAX_QUEUED_BYTES) {
      this.stop(`the disk is not keeping up (${MAX_QUEUED_BYTES} bytes waiting)`);
      return;
    }
    this.accepted += chunk.byteLength;
    this.enqueue({ kind: "data", side, bytes: chunk, micros }, chunk.byteLength);
  }

  private enqueue(entry: Entry, size: number): void {
    // Consecutive skipped chunks collapse into one entry, so the queue stays short.
    const last = this.queue.at(-1);
    if (entry.kind === "skipped" && last?.kind === "skipped" && last.side === entry.side) {
      this.queue[this.queue.length - 1] = { ...last, length: last.length + entry.length };
    } else this.queue.push(entry);
    this.queuedBytes += size;
    this.wake?.();
  }

  private stop(why: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.wake?.();
    this.logger.warn(`capture of session ${this.session.sessionId} stopped: ${why}`);
  }

  /** The writer: opens the file (0600, never over an existing one), then writes entries in order. */
  private async run(path: string, startedAt: number): Promise<void> {
    let file: FileHandle | undefined;
    try {
      file = await open(path, "wx", 0o600);
      await this.write(file, this.encoder.start(startedAt));
      while (!this.stopped) {
        const entry = this.queue.shift();
        if (!entry) {
          if (this.closed) break;
          await new Promise<void>((resolve) => {
            this.wake = resolve;
          });
          this.wake = undefined;
          continue;
        }
        // Everything queued by now goes out in one write: many small chunks, few system calls.
        const encoded = [this.take(entry)];
        let size = encoded[0]?.byteLength ?? 0;
        while (size < WRITE_BATCH_BYTES && this.queue.length > 0) {
          const bytes = this.take(this.queue.shift() as Entry);
          encoded.push(bytes);
          size += bytes.byteLength;
        }
        await this.write(
          file,
          encoded.length === 1 ? (encoded[0] as Uint8Array) : Buffer.concat(encoded),
        );
      }
      this.logger.debug(`capture of session ${this.session.sessionId} written to ${path}`);
    } catch (error) {
      this.stop(`cannot write ${path}: ${(error as Error).message}`);
    } finally {
      await file?.close().catch(() => undefined);
      this.budget.give(this.lease - this.written);
    }
  }

  private async write(file: FileHandle, bytes: Uint8Array): Promise<void> {
    await write(file, bytes, (count) => {
      this.written += count;
      this.observer?.captureWritten(count);
    });
  }

  /**
   * Grows the lease to cover `payload` and what must still follow it (a truncation comment, the
   * closing packets); false when the budget has not that much left.
   */
  private cover(payload: number): boolean {
    const need = Math.min(
      this.settings.maxBytes,
      this.encoder.bytesWritten + encodedBound(payload) + MIN_CAPTURE_BYTES,
    );
    if (need <= this.lease) return true;
    const step = Math.min(
      Math.max(need - this.lease, LEASE_STEP),
      this.settings.maxBytes - this.lease,
    );
    // A whole step when there is one, else just what this write needs; only that failing spends
    // the budget.
    const left = this.budget.limit - this.budget.used;
    const grow = step <= left ? step : need - this.lease;
    if (!this.budget.take(grow)) return false;
    this.lease += grow;
    return true;
  }

  private take(entry: Entry): Uint8Array {
    if (entry.kind === "data") this.queuedBytes -= entry.bytes.byteLength;
    return this.encode(entry);
  }

  private encode(entry: Entry): Uint8Array {
    switch (entry.kind) {
      case "data":
        if (!this.encoder.truncated && !this.cover(entry.bytes.byteLength)) {
          return this.encoder.uncaptured(
            entry.side,
            entry.bytes.byteLength,
            entry.micros,
            `capture truncated: --capture-max-total (${this.budget.limit} bytes for this process) was reached; later data was not captured`,
          );
        }
        return entry.side === "client"
          ? this.encoder.fromClient(entry.bytes, entry.micros)
          : this.encoder.fromTarget(entry.bytes, entry.micros);
      case "skipped":
        return this.encoder.uncaptured(entry.side, entry.length, entry.micros);
      case "close":
        return this.encoder.end(entry.close, entry.micros);
    }
  }
}

async function write(
  file: FileHandle,
  bytes: Uint8Array,
  wrote: (count: number) => void,
): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await file.write(bytes, offset, bytes.byteLength - offset);
    offset += bytesWritten;
    wrote(bytesWritten);
  }
}
