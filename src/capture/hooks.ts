import type { SessionHooks } from "../session/hooks.ts";
import type { CaptureEndpoint } from "./session-capture.ts";
import type { Capture, SessionTap } from "./sink.ts";

/**
 * One session's capture, as hooks on the session: it opens when the target is connected (the
 * filter may leave it out) and records the bytes where they really moved — what the target took
 * (a short write as far as it went) and what the target sent — so a capture never shows bytes
 * that did not flow.
 */
export function captureHooks(
  capture: Capture,
  sessionId: number,
  client: CaptureEndpoint,
): SessionHooks {
  let tap: SessionTap | undefined;
  return {
    opened({ protocol, transport, location, host }) {
      const address = location.kind === "network" ? location.address : "";
      tap = capture.open({
        sessionId,
        protocol,
        transport: transport === "messages" ? "udp" : "tcp",
        client,
        target: { address, port: location.kind === "network" ? location.port : 0 },
        targetHost: host !== undefined && host !== address ? host : undefined,
      });
    },
    toTarget: (chunk) => tap?.clientBytes(chunk),
    fromTarget: (chunk) => tap?.targetBytes(chunk),
    closed: ({ closeCode, closeReason, how }) =>
      tap?.close({ code: closeCode, reason: closeReason, how }),
  };
}
