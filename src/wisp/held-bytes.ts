/** The bytes a Wisp connection may hold for its targets before it stops reading its WebSocket. */
export interface HeldLimits {
  /** Bytes one open stream may hold (received from the client, not yet taken by its target). */
  readonly stream: number;
  /** Bytes all of the connection's streams may hold, streams that ended but still flush included. */
  readonly connection: number;
}

/**
 * What each of a connection's streams holds for its target, against the per-stream and
 * per-connection bounds. Wisp credit counts packets, not bytes, so a client may stay within its
 * credit and still send more bytes than a stream should hold: the connection stops reading while
 * `over`, which bounds memory at the limit plus the packet that crossed it.
 */
export class HeldBytes<Key> {
  private readonly bytes = new Map<Key, number>();
  /** Open streams above the per-stream bound. */
  private readonly overStream = new Set<Key>();
  private sum = 0;

  constructor(readonly limits: HeldLimits) {}

  /** Bytes held by every stream together. */
  get total(): number {
    return this.sum;
  }

  get over(): boolean {
    return this.overStream.size > 0 || this.sum > this.limits.connection;
  }

  /**
   * `key` holds `bytes` now. A stream that has ended (`open` false) counts towards the
   * connection's bound only: it takes no more data, so its own bound no longer applies.
   */
  set(key: Key, bytes: number, open: boolean): void {
    const held = Math.max(0, bytes);
    this.sum += held - (this.bytes.get(key) ?? 0);
    if (held > 0) this.bytes.set(key, held);
    else this.bytes.delete(key);
    if (open && held > this.limits.stream) this.overStream.add(key);
    else this.overStream.delete(key);
  }
}
