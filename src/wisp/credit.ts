/**
 * Per-stream flow control towards the target, counted in packets as Wisp does: the server holds
 * at most `capacity` of the client's DATA packets that the target has not taken yet, and tells the
 * client with CONTINUE how many more it may send.
 *
 * Clients (wisp-js, libcurl.js, and the spec: "store the received buffer size") replace their
 * remaining credit with each CONTINUE's value. A packet that arrives after a CONTINUE was sent may
 * have been sent under the old credit or the new one, so the server keeps an upper bound of the
 * packets that may still arrive (`outstanding`): each CONTINUE of n raises it by n (the client may
 * have spent all its old credit in flight), each packet lowers it by one. A grant is
 * `capacity - held - outstanding`, so `held` never exceeds `capacity` for a client that obeys.
 * Credit the client still had when a CONTINUE replaced it stays counted as outstanding; granting
 * only once `outstanding` is down to half keeps that at most half a buffer, so a stream always gets
 * credit back once its target drains: early (at half), never only at zero.
 */
export class StreamCredit {
  /** Sizes of the packets held, oldest first; the oldest may be partly written. */
  private sizes: number[] = [];
  private head = 0;
  private heldBytes = 0;
  /** Packets that may still arrive under credit granted so far (the stream-0 CONTINUE included). */
  private outstanding: number;

  constructor(readonly capacity: number) {
    this.outstanding = capacity;
  }

  /** Packets received that the target has not wholly taken. */
  get held(): number {
    return this.sizes.length - this.head;
  }

  /** More held than any credit allowed: the client does not obey CONTINUE. */
  get overrun(): boolean {
    return this.held > this.capacity;
  }

  received(size: number): void {
    if (this.outstanding > 0) this.outstanding--;
    this.sizes.push(size);
    this.heldBytes += size;
  }

  /** The relay still holds `pendingBytes` for the target: the packets before them are written. */
  settle(pendingBytes: number): void {
    let written = this.heldBytes - pendingBytes;
    while (this.head < this.sizes.length) {
      const size = this.sizes[this.head] as number;
      if (size > written) break;
      written -= size;
      this.heldBytes -= size;
      this.head++;
    }
    if (this.head === this.sizes.length) {
      this.sizes = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.sizes.length) {
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
  }

  /** The CONTINUE value to send now, if one is due. */
  grant(): number | undefined {
    if (this.outstanding > this.capacity / 2) return undefined;
    const room = this.capacity - this.held - this.outstanding;
    // A small grant would replace credit the client may still have; wait for more room unless
    // the client has none at all.
    if (room <= 0 || (room < this.capacity / 4 && this.outstanding > 0)) return undefined;
    this.outstanding += room;
    return room;
  }
}
