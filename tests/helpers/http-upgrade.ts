/**
 * Sends a WebSocket upgrade request over a raw loopback socket and returns the HTTP status code
 * of the answer (101 when upgraded): for refusals that a WebSocket object only reports as "failed".
 */
export async function upgradeStatus(
  port: number,
  headers: Record<string, string> = {},
  timeoutMs = 15_000,
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
        reject(new Error(`closed without an HTTP answer; got ${text}`));
      },
    },
  });
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
  );
  return promise;
}
