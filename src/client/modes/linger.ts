import type { Connection } from "../index.ts";

/**
 * The local side has ended, but the protocol has no half-close: closing the WebSocket now
 * would drop replies still on their way. So wait until nothing has arrived for `quietMs`
 * (or the server closes), then close with 1000. With `quietMs` 0 there is no quiet period
 * that could cut a reply short: the connection stays open until the target closes it.
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
  let seen = -1;
  while (!closed && connection.bytesReceived !== seen) {
    seen = connection.bytesReceived;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      new Promise((resolve) => {
        timer = setTimeout(resolve, quietMs);
      }),
      connection.closed,
    ]);
    clearTimeout(timer);
  }
  connection.close(1000, "client done");
}
