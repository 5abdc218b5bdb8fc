import { PauseGate } from "../relay/pause-gate.ts";

/** Why a Wisp connection has stopped reading its WebSocket; each is lifted on its own. */
export type ReadHold =
  /** The credential in the client's INFO is being checked. */
  | "authenticating"
  /** A stream, or the connection as a whole, holds its most bytes for the targets. */
  | "held-bytes"
  /** Too much is queued towards a client that does not read. */
  | "outbound";

/** The WebSocket of a Wisp connection, paused while any `ReadHold` holds. */
export class ReadGate extends PauseGate<ReadHold> {}
