/**
 * Per-stream flow control towards the target, counted in packets as Wisp does: the server holds
 * at most `capacity` of the client's DATA packets that the target has not taken yet, and tells the
 * client with CONTINUE how many more it may send.
 *
 * Clients (wisp-js, libcurl.js) replace their remaining credit with each CONTINUE's value, so the
 * value is what the buffer has room for now (`capacity - held`), and a CONTINUE is sent once the
 * client's credit may have fallen to half, when the room is larger than that: early enough that a
 * client keeping the target busy never waits for one, rarely enough to cost one small packet per
 * half buffer. Packets the client sent before a CONTINUE reached it were counted against the old
 * credit by the client but arrive after the new value was computed, so a client that obeys every
 * CONTINUE can put at most one buffer more in flight: `overrun` marks a stream beyond that.
 */
export class StreamCredit {
  /** Sizes of the packets held, oldest first; the oldest may be partly written. */
  private sizes: number[] = [];
  private head = 0;
  private heldBytes = 0;
  /** The last value granted (the initial CONTINUE on stream 0 counts), and packets since. */
  private granted: number;
  private receivedSinceGrant = 0;

  constructor(readonly capacity: number) {
    this.granted = capacity;
  }

  /** Packets received that the target has not wholly taken. */
  get held(): number {
    return this.sizes.length - this.head;
  }

  /** Beyond what a client obeying CONTINUE can cause. */
  get overrun(): boolean {
    return this.held > 2 * this.capacity;
  }

  received(size: number): void {
    this.receivedSinceGrant++;
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
    // A lower bound of the client's remaining credit (in-flight packets make it lower still).
    const credit = this.granted - this.receivedSinceGrant;
    if (credit > this.capacity / 2) return undefined;
    const room = this.capacity - this.held;
    if (room <= Math.max(credit, 0)) return undefined;
    this.granted = room;
    this.receivedSinceGrant = 0;
    return room;
  }
}
