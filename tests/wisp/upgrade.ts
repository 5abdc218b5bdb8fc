/**
 * Sends a WebSocket upgrade for `path` over a raw loopback socket and returns the HTTP status of
 * the answer (101 when upgraded): for refusals that a WebSocket object reports only as "failed".
 */
export async function upgradeStatusAt(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  timeoutMs = 5000,
): Promise<number> {
  let text = "";
  const { promise, resolve, reject } = Promise.withResolvers<number>();
  const timer = setTimeout(() => reject(new Error(`no HTTP answer; got ${text}`)), timeoutMs);
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(socket, chunk) {
        text += new TextDecoder().decode(chunk);
        const status = /^HTTP\/1\.1 (\d{3})/.exec(text);
        if (status && text.includes("\r\n\r\n")) {
          clearTimeout(timer);
          resolve(Number(status[1]));
          socket.end();
        }
      },
      close() {
        clearTimeout(timer);
        reject(new Error(`closed without an HTTP answer; got ${text}`));
      },
    },
  });
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
  );
  return promise;
}
