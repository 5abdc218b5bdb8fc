// Loopback helpers: free ports and waiting for a listener.

export async function freePort(hostname = "127.0.0.1"): Promise<number> {
  const listener = Bun.listen({ hostname, port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}

/** True once a TCP connect to hostname:port succeeds; polls every `everyMs` until `timeoutMs`. */
export async function waitForPort(
  hostname: string,
  port: number,
  timeoutMs: number,
  everyMs = 20,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await canConnect(hostname, port)) return true;
    await Bun.sleep(everyMs);
  }
  return false;
}

/** One connect attempt; false if refused, failed, or not accepted within `timeoutMs`. */
export function canConnect(hostname: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((settle) => {
    const timer = setTimeout(() => settle(false), timeoutMs);
    const resolve = (ok: boolean) => {
      clearTimeout(timer);
      settle(ok);
    };
    Bun.connect({
      hostname,
      port,
      socket: {
        open(socket) {
          socket.end();
          resolve(true);
        },
        data() {},
        connectError() {
          resolve(false);
        },
        error() {
          resolve(false);
        },
      },
    }).catch(() => resolve(false));
  });
}
