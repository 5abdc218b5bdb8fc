/** Why a Wisp connection has stopped reading its WebSocket; each is lifted on its own. */
export type ReadHold =
  /** The credential in the client's INFO is being checked. */
  | "authenticating"
  /** A stream, or the connection as a whole, holds its most bytes for the targets. */
  | "held-bytes"
  /** Too much is queued towards a client that does not read. */
  | "outbound";

/**
 * Pauses a WebSocket while any reason holds and resumes it once none does, so that one reason
 * lifting (a target drained) never resumes a socket that another (a client that does not read)
 * still holds.
 */
export class ReadGate {
  private readonly holds = new Set<ReadHold>();

  constructor(private readonly socket: { pause(): void; resume(): void }) {}

  get paused(): boolean {
    return this.holds.size > 0;
  }

  has(reason: ReadHold): boolean {
    return this.holds.has(reason);
  }

  /** Sets or lifts `reason`; pauses or resumes the socket when that changes whether it reads. */
  hold(reason: ReadHold, on: boolean): void {
    if (on === this.holds.has(reason)) return;
    if (on) {
      this.holds.add(reason);
      if (this.holds.size === 1) this.socket.pause();
    } else {
      this.holds.delete(reason);
      if (this.holds.size === 0) this.socket.resume();
    }
  }

  /** The connection closed: nothing to resume any more. */
  clear(): void {
    this.holds.clear();
  }
}
