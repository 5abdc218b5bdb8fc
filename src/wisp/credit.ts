/** How much of a client's data a TCP stream holds for its target. */
export interface CreditLimits {
  /** Packets every stream may send before its first CONTINUE: the value on stream 0. */
  readonly initial: number;
  /** Packets a stream is ever granted at once. */
  readonly most: number;
  /** Bytes held and in flight that grants aim at, once the stream's packet size is known. */
  readonly bytes: number;
}

/**
 * Per-stream flow control towards the target, counted in packets as Wisp does: the server holds
 * at most `most` of the client's DATA packets that the target has not taken yet, and tells the
 * client with CONTINUE how many more it may send.
 *
 * Clients (wisp-js, libcurl.js, and the spec: "store the received buffer size") replace their
 * remaining credit with each CONTINUE's value. A packet that arrives after a CONTINUE was sent may
 * have been sent under the old credit or the new one, so the server keeps an upper bound of the
 * packets that may still arrive (`outstanding`): each CONTINUE of n raises it by n (the client may
 * have spent all its old credit in flight), each packet lowers it by one. A grant is
 * `window - held - outstanding`, so `held` never exceeds the window for a client that obeys.
 * Credit the client still had when a CONTINUE replaced it stays counted as outstanding; granting
 * only once `outstanding` is down to half keeps that at most half a window, so a stream always
 * gets credit back once its target drains: early (at half), never only at zero.
 *
 * Packets have no fixed size (a client may send 1 byte or a 16 MiB message), so the window is
 * sized in bytes once the stream's typical packet is known: `bytes / typical packet` packets,
 * between 1 and `most`. Large packets get a short window, small ones a long one (measured, 64 KiB
 * packets on 8 streams: a window of 16 moved them about twice as fast as 128, with less CPU, since
 * less of what is copied is cold; docs/benchmarks/ANALYSIS.md).
 */
export class StreamCredit {
  /** Sizes of the packets held, oldest first; the oldest may be partly written. */
  private sizes: number[] = [];
  private head = 0;
  private heldBytes = 0;
  /** Packets that may still arrive under credit granted so far (the stream-0 CONTINUE included). */
  private outstanding: number;
  /** A running average of the client's packet sizes; 0 before the first. */
  private typical = 0;
  private packetsReceived = 0;
  /** Credit forgotten by `forgetUnspent` that a slow client may still spend. */
  private slack = 0;
  /** Bytes the window aims at: `limits.bytes`, or less for a stream under a bandwidth limit. */
  private bytes: number;
  private granted = false;

  constructor(readonly limits: CreditLimits) {
    this.outstanding = limits.initial;
    this.bytes = limits.bytes;
  }

  /** Packets the stream may have held and in flight now. */
  get window(): number {
    const { initial, most } = this.limits;
    if (this.typical === 0) return initial;
    return Math.max(1, Math.min(most, Math.floor(this.bytes / this.typical)));
  }

  /** Later windows aim at `bytes` (at most `limits.bytes`): a limited stream gets smaller grants. */
  aimAt(bytes: number): void {
    this.bytes = Math.min(this.limits.bytes, bytes);
  }

  /**
   * A CONTINUE was granted. Before one, the client spends the connection's initial credit, which
   * the server counts exactly: nothing can stall it.
   */
  get continued(): boolean {
    return this.granted;
  }

  /** Packets received that the target has not wholly taken. */
  get held(): number {
    return this.sizes.length - this.head;
  }

  /**
   * A DATA packet of `size` bytes arrived. False when no credit granted so far allows it (the
   * client sent beyond its CONTINUE): the packet is not counted, the caller refuses it.
   */
  received(size: number): boolean {
    if (this.outstanding > 0) this.outstanding--;
    else if (this.slack > 0) this.slack--;
    else return false;
    this.packetsReceived++;
    this.typical = this.typical === 0 ? size : this.typical + (size - this.typical) / 8;
    this.sizes.push(size);
    this.heldBytes += size;
    return true;
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

  /** Packets received so far: a client that sent none for a while has none it means to send. */
  get receivedCount(): number {
    return this.packetsReceived;
  }

  /**
   * The target took everything and no packet came for a while: whatever the bound still counts as
   * outstanding is credit the client no longer has (a CONTINUE replaced it before it was spent,
   * and a window that shrank since would never grant again). Forget it, so `grant` can.
   */
  forgetUnspent(): void {
    if (this.held !== 0) return;
    // Still tolerated, should it come after all (a slow client, not a stalled one): a packet
    // under it is no violation, but no grant waits for it.
    this.slack += this.outstanding;
    this.outstanding = 0;
  }

  /** The CONTINUE value to send now, if one is due. */
  grant(): number | undefined {
    const window = this.window;
    // Small packets grow the window past the initial credit at once; the first CONTINUE still
    // waits until half of that credit is spent, so that a short stream (most are) costs the
    // client no CONTINUE at all.
    const due = this.granted ? window : Math.min(window, this.limits.initial);
    if (this.outstanding > due / 2) return undefined;
    const room = window - this.held - this.outstanding;
    // A small grant would replace credit the client may still have; wait for more room unless
    // the client has none at all.
    if (room <= 0 || (room < window / 4 && this.outstanding > 0)) return undefined;
    this.outstanding += room;
    this.granted = true;
    return room;
  }
}

/**
 * Each TCP stream's flow control towards its target. The first packets' size is unknown, so the
 * credit every stream starts with is small (wisp-js's server offers 128, which lets 8 MiB of
 * 64 KiB packets in at once); later grants size the window to about the relay's high-water mark,
 * up to 128 packets for small ones.
 */
export const WISP_CREDIT: CreditLimits = { initial: 32, most: 128, bytes: 1024 * 1024 };
