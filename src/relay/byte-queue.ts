/**
 * Queued chunks smaller than this together go out in one write: copying a few KiB costs less than
 * a system call per chunk (a client's first bytes, queued while its target connects, are often
 * several small packets), and the target gets them in one segment.
 */
export const COALESCE_BYTES = 16 * 1024;

/** A FIFO of byte chunks with a running total; a chunk is copied only to coalesce small ones. */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0;
  bytes = 0;

  get isEmpty(): boolean {
    return this.bytes === 0;
  }

  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.chunks.push(chunk);
    this.bytes += chunk.byteLength;
  }

  /** Offers the bytes to `write` in order, small chunks coalesced, until it takes less than offered. */
  drainInto(write: (chunk: Uint8Array) => number): void {
    while (this.head < this.chunks.length) {
      const chunk = this.coalesceHead();
      const written = write(chunk);
      this.bytes -= written;
      if (written < chunk.byteLength) {
        this.chunks[this.head] = chunk.subarray(written);
        this.compact();
        return;
      }
      this.head++;
    }
    this.chunks.length = 0;
    this.head = 0;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.bytes = 0;
  }

  /**
   * The chunk at the head, or the head and the chunks after it in one buffer while together they
   * stay within COALESCE_BYTES; that buffer then takes the place of the last of them.
   */
  private coalesceHead(): Uint8Array {
    const chunks = this.chunks;
    const first = chunks[this.head] as Uint8Array;
    let end = this.head + 1;
    let total = first.byteLength;
    for (; end < chunks.length; end++) {
      const size = (chunks[end] as Uint8Array).byteLength;
      if (total + size > COALESCE_BYTES) break;
      total += size;
    }
    if (end === this.head + 1) return first;
    // A Buffer, like the chunks it joins (Bun hands WebSocket messages and socket reads over as
    // Buffers): the code that writes them then meets one kind of object, and its optimized
    // form is not thrown away when the first merged chunk comes.
    const merged = Buffer.allocUnsafe(total);
    let offset = 0;
    for (let i = this.head; i < end; i++) {
      const chunk = chunks[i] as Uint8Array;
      merged.set(chunk, offset);
      offset += chunk.byteLength;
    }
    this.head = end - 1;
    chunks[this.head] = merged;
    return merged;
  }

  private compact(): void {
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}
