export interface UpgradeAnswer {
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: Record<string, string>;
  /** The body of a refusal (empty for 101). */
  readonly body: string;
}

/**
 * Sends a WebSocket upgrade for `path` over a raw loopback socket and returns the HTTP answer:
 * the status, headers and (for a refusal) its body, which a WebSocket object never shows.
 */
export async function upgradeAnswer(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<UpgradeAnswer> {
  let text = "";
  const { promise, resolve, reject } = Promise.withResolvers<UpgradeAnswer>();
  const timer = setTimeout(() => reject(new Error(`no HTTP answer; got ${text}`)), timeoutMs);
  const parse = (): UpgradeAnswer | undefined => {
    const end = text.indexOf("\r\n\r\n");
    if (end < 0) return undefined;
    const [statusLine = "", ...lines] = text.slice(0, end).split("\r\n");
    const found: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      found[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]);
    const body = text.slice(end + 4);
    const length = Number(found["content-length"] ?? 0);
    if (status !== 101 && Buffer.byteLength(body) < length) return undefined;
    return { status, headers: found, body };
  };
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(socket, chunk) {
        text += new TextDecoder().decode(chunk);
        const answer = parse();
        if (answer) {
          clearTimeout(timer);
          resolve(answer);
          socket.end();
        }
      },
      close() {
        clearTimeout(timer);
        reject(new Error(`closed without a complete HTTP answer; got ${text}`));
      },
    },
  });
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
  );
  return promise;
}

/**
 * The HTTP status of the answer to a WebSocket upgrade for `path` (101 when upgraded): for
 * refusals that a WebSocket object only reports as "failed".
 */
export async function upgradeStatusAt(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  timeoutMs = 15_000,
): Promise<number> {
  return (await upgradeAnswer(port, path, headers, timeoutMs)).status;
}

/** The HTTP status of the answer to a WebSocket upgrade for "/". */
export function upgradeStatus(
  port: number,
  headers: Record<string, string> = {},
  timeoutMs = 15_000,
): Promise<number> {
  return upgradeStatusAt(port, "/", headers, timeoutMs);
}
