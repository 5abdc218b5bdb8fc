/**
 * The client's side of a session, as the session sees it. A WebSocket implements it (one session
 * per WebSocket); a multiplexed stream (a Wisp stream, many per WebSocket, each with its own flow
 * control) can implement it too, so the session code does not care which it is.
 */
export interface SessionClient {
  /** A protocol message (greeting, status); only sent by sessions whose status reporter speaks. */
  sendText(text: string): void;
  /** Bun's send status: bytes sent, -1 when queued behind backpressure (0, dropped, must not happen). */
  sendBinary(chunk: Uint8Array): number;
  /** Bytes accepted by `sendBinary` that have not left yet. */
  bufferedAmount(): number;
  /** Stop delivering the client's messages until `resume` (flow control, shutdown). */
  pause(): void;
  resume(): void;
  /** Ends the client's side with a close code; the owner reports the end through `clientClosed`. */
  close(code: number, reason: string): void;
}
