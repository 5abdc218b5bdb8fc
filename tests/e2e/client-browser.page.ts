// Bundled with Bun.build for the browser by client-browser.test.ts; runs inside Chromium.
import { connect, Socket2WebError } from "../../src/client/index.ts";

async function digest(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(hash, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function randomBytes(count: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(count);
  for (let offset = 0; offset < count; offset += 65536) {
    crypto.getRandomValues(bytes.subarray(offset, Math.min(offset + 65536, count)));
  }
  return bytes;
}

async function readBytes(
  readable: ReadableStream<Uint8Array>,
  count: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const out = new Uint8Array(count);
  let filled = 0;
  const reader = readable.getReader();
  while (filled < count) {
    const { done, value } = await reader.read();
    if (done) break;
    out.set(value.subarray(0, count - filled), filled);
    filled += value.byteLength;
  }
  reader.releaseLock();
  if (filled !== count) throw new Error(`got ${filled} of ${count} bytes`);
  return out;
}

const api = {
  async echo(url: string, port: number, size: number) {
    const connection = await connect(url, {
      protocol: "tcp",
      target_ip: "127.0.0.1",
      target_port: port,
    });
    const data = randomBytes(size);
    const received = readBytes(connection.readable, size);
    const writer = connection.writable.getWriter();
    for (let offset = 0; offset < size; offset += 64 * 1024) {
      await writer.write(data.subarray(offset, offset + 64 * 1024));
    }
    const back = await received;
    connection.close();
    const closed = await connection.closed;
    return {
      sent: await digest(data),
      received: await digest(back),
      length: back.byteLength,
      protocols: connection.supportedProtocols(),
      status: connection.status,
      closeCode: closed.code,
    };
  },
  async failure(url: string, targetIp: string, port: number) {
    try {
      const connection = await connect(url, {
        protocol: "tcp",
        target_ip: targetIp,
        target_port: port,
      });
      connection.close();
      return { connected: true };
    } catch (error) {
      const typed = error instanceof Socket2WebError;
      return {
        typed,
        name: (error as Error).name,
        code: typed ? error.code : undefined,
        closeCode: typed ? error.closeCode : undefined,
        reason: typed ? error.reason : String(error),
      };
    }
  },
};

(globalThis as unknown as { socket2web: typeof api }).socket2web = api;
// The project compiles without the DOM library; this file alone runs in a page.
(globalThis as unknown as { document: { title: string } }).document.title = "ready";
