/** A FIFO of whole messages with a running byte total; messages are kept, never copied or split. */
export class MessageQueue {
  private messages: Uint8Array[] = [];
  private head = 0;
  bytes = 0;

  get isEmpty(): boolean {
    return this.head === this.messages.length;
  }

  /** The oldest message, still queued. */
  peek(): Uint8Array | undefined {
    return this.messages[this.head];
  }

  push(message: Uint8Array): void {
    // An empty message is still a message (an empty datagram), unlike an empty chunk of a stream.
    this.messages.push(message);
    this.bytes += message.byteLength;
  }

  shift(): Uint8Array | undefined {
    const message = this.messages[this.head];
    if (message === undefined) return undefined;
    this.head++;
    this.bytes -= message.byteLength;
    if (this.head === this.messages.length) this.clear();
    else if (this.head > 64 && this.head * 2 > this.messages.length) {
      this.messages = this.messages.slice(this.head);
      this.head = 0;
    }
    return message;
  }

  clear(): void {
    this.messages = [];
    this.head = 0;
    this.bytes = 0;
  }
}
