import type { Refusal } from "../admission/refusal.ts";
import type { ConnectedStatus, ErrorStatus } from "../protocol/constants.ts";
import type { SessionClient } from "./client.ts";
import type { Selection } from "./selection.ts";

/**
 * How a session tells its client the outcome of choosing and opening a target. Socket2Web's
 * protocol sends status messages; raw (websockify-style) sessions send nothing and only close.
 */
export interface StatusReporter {
  /** The target chosen in `selection` is connected; a reporter that says so builds its message. */
  connected(selection: Selection): void;
  /** Followed by the session closing with `refusal.closeCode`. */
  failed(refusal: Refusal): void;
}

/** The status messages of the protocol (section 4 of docs/protocol.md). */
export function protocolStatus(client: SessionClient): StatusReporter {
  return {
    connected({ adapter, echo }) {
      const status: ConnectedStatus = { status: "connected", ...echo, protocol: adapter.name };
      client.sendText(JSON.stringify(status));
    },
    failed(refusal) {
      const error = refusal.protocolError;
      if (!error) return;
      const status: ErrorStatus = { status: "error", error: error.code, reason: error.message };
      client.sendText(JSON.stringify(status));
    },
  };
}

/** For sessions whose client expects the target's bytes and nothing else. */
export const silentStatus: StatusReporter = { connected() {}, failed() {} };
