import type { Connection } from "../index.ts";

/**
 * The local side has ended, but the protocol has no half-close: closing the WebSocket now
 * would drop replies still on their way. So wait until nothing has arrived for `quietMs`, timed
 * from the later of the local end and the last byte (or until the server closes), then close
 * with 1000. With `quietMs` 0 there is no quiet period that could cut a reply short: the
 * connection stays open until the target closes it.
 */
export async function closeWhenQuiet(connection: Connection, quietMs: number): Promise<void> {
  if (quietMs === 0) {
    await connection.closed;
    return;
  }
  let closed = false;
  void connection.closed.then(() => {
    closed = true;
  });
  const localEnd = performance.now();
  for (;;) {
    const quietSince = Math.max(localEnd, connection.lastReceivedAt ?? localEnd);
    const remaining = quietSince + quietMs - performance.now();
    if (closed || remaining <= 0) break;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      new Promise((resolve) => {
        timer = setTimeout(resolve, remaining);
      }),
      connection.closed,
    ]);
    clearTimeout(timer);
  }
  connection.close(1000, "client done");
}
