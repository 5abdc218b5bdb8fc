import type { Server } from "bun";
import { CloseCode, CloseReason } from "../protocol/constants.ts";
import type { Door } from "./door.ts";
import type { TlsMaterial } from "./tls.ts";

/** How long a shutdown waits for capture files to take their last packets (within its deadline). */
const CAPTURE_SETTLE_MS = 1000;

/** What closes at the end: the front ends' side of every open WebSocket. */
export interface OpenConnections {
  closeAll(code: number, reason: string): void;
  readonly size: number;
}

export interface Lifecycle {
  reloadTls(tls: TlsMaterial): void;
  shutdown(graceMs?: number): Promise<void>;
}

/**
 * A certificate reload and a shutdown. Bun's `server.reload` keeps the old certificate, so a new
 * listener takes over the port (SO_REUSEPORT) and the old one stops listening while its
 * WebSockets carry on. A shutdown stops accepting, lets sessions flush for at most `graceMs`, then
 * closes everything with 1001.
 */
export function createLifecycle<Data>(
  door: Door,
  connections: OpenConnections,
  first: Server<Data>,
  listen: (tls: TlsMaterial) => Server<Data>,
  hasTls: boolean,
): Lifecycle {
  let current = first;
  /** Listeners replaced by a reload: no longer listening, but their WebSockets are live. */
  const retired: Server<Data>[] = [];
  return {
    reloadTls(tls) {
      if (!hasTls) throw new Error("reloadTls: this server was started without TLS");
      if (!door.accepting) return;
      const previous = current;
      current = listen(tls);
      retired.push(previous);
      // Resolves once the last of its WebSockets has closed.
      void previous.stop(false).then(() => retired.splice(retired.indexOf(previous), 1));
    },
    async shutdown(graceMs = 5000) {
      if (!door.accepting) return;
      door.stopAccepting();
      void current.stop(false);
      const { sessions } = door;
      for (const session of sessions) session.shutdown();
      await waitUntil(
        () => [...sessions].every((s) => s.pendingToTarget === 0 && s.bufferedToClient === 0),
        graceMs,
      );
      for (const session of sessions) session.close(CloseCode.goingAway, CloseReason.shuttingDown);
      connections.closeAll(CloseCode.goingAway, CloseReason.shuttingDown);
      await waitUntil(
        () => [...sessions].every((s) => s.phase === "closed") && connections.size === 0,
        1000,
      );
      // Capture files take their last packets in the background: give them a moment to land.
      if (door.capture) {
        await Promise.race([door.capture.settled(), Bun.sleep(CAPTURE_SETTLE_MS)]);
      }
      door.idleCollector.stop();
      for (const server of [current, ...retired]) void server.stop(true);
    },
  };
}

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done() && performance.now() < deadline) await Bun.sleep(20);
}
