/** A FIFO of byte chunks with a running total; chunks are kept, never copied. */
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

  /** Offers chunks to `write` in order until it takes less than offered. */
  drainInto(write: (chunk: Uint8Array) => number): void {
    while (this.head < this.chunks.length) {
      const chunk = this.chunks[this.head] as Uint8Array;
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

  private compact(): void {
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}
