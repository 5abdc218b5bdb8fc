/**
 * Bytes queued on a Wisp connection's WebSocket past which the server stops reading the client,
 * and below which it reads again. Stream DATA is bounded by each stream's relay (a target stops
 * being read past 1 MiB queued, plus one read each); what the client provokes (CLOSE for a bad
 * packet, CONTINUE) is bounded here, by not reading what would provoke more.
 */
export interface OutboundHold {
  readonly high: number;
  readonly low: number;
}

/** Above the relay's bound for the streams' own DATA, so a client that reads is never held. */
export const OUTBOUND_HOLD: OutboundHold = { high: 8 * 1024 * 1024, low: 1024 * 1024 };

/** Whether to hold the client back with `buffered` bytes queued, given whether it is held now. */
export function outboundHeld(buffered: number, holding: boolean, limits: OutboundHold): boolean {
  return holding ? buffered >= limits.low : buffered > limits.high;
}
