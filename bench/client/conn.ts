// The byte pipe a workload drives, whatever the dialect underneath.

export interface Conn {
  /** Sends bytes now (the transport copies or queues them). */
  write(bytes: Uint8Array): void;
  /** False while the transport holds more than its send bound: wait with `whenWritable`. */
  writable(): boolean;
  whenWritable(): Promise<void>;
  /** The one receiver of incoming bytes; bytes that arrived earlier are delivered at once. */
  setReceiver(receiver: (bytes: Uint8Array) => void): void;
  close(): void;
  /** Resolves (never rejects) with a reason when the connection ends. */
  readonly closed: Promise<string>;
  /** Negotiated WebSocket extensions ("" for none, null for TCP). */
  readonly extensions: string | null;
  /** Socket2Web protocol only: µs from the WebSocket upgrade (open) to the `connected` status. */
  readonly setupMicros?: number;
}

/** Bytes a transport may hold unsent before `writable()` turns false. */
export const SEND_BOUND = 1024 * 1024;

/** Buffers incoming bytes until the workload installs its receiver. */
export class Inbox {
  private early: Uint8Array[] = [];
  private receiver: ((bytes: Uint8Array) => void) | null = null;

  push(bytes: Uint8Array): void {
    if (this.receiver) this.receiver(bytes);
    else this.early.push(bytes);
  }

  set(receiver: (bytes: Uint8Array) => void): void {
    this.receiver = receiver;
    const early = this.early;
    this.early = [];
    for (const bytes of early) receiver(bytes);
  }
}

/** Longest a writer waits for a transport to take more bytes; the workload's own timeout is shorter. */
const POLL_LIMIT_MS = 120_000;

/** Polls `ready` every millisecond, for transports without a drain event. */
export async function pollUntil(ready: () => boolean, closed: () => boolean): Promise<void> {
  const deadline = Date.now() + POLL_LIMIT_MS;
  while (!ready() && !closed() && Date.now() < deadline) await Bun.sleep(1);
}
