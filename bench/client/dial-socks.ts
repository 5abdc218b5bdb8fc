// A SOCKS5 client (socket2web socks rows): TCP to the local proxy, greeting and CONNECT sent in
// one write, and the two replies read before the workload gets the connection.
import type { Conn } from "./conn.ts";
import { dialTcp } from "./dial-tcp.ts";

/** The method reply (2 bytes) and the CONNECT reply with an IPv4 bound address (10 bytes). */
const REPLY_BYTES = 12;

export async function dialSocks(
  host: string,
  port: number,
  targetHost: string,
  targetPort: number,
  timeoutMs: number,
): Promise<Conn> {
  const conn = await dialTcp(host, port, timeoutMs);
  const address = targetHost.split(".").map(Number);
  conn.write(
    Uint8Array.of(
      0x05,
      0x01,
      0x00,
      0x05,
      0x01,
      0x00,
      0x01,
      ...address,
      targetPort >> 8,
      targetPort & 0xff,
    ),
  );
  let receiver: ((bytes: Uint8Array) => void) | null = null;
  let early: Uint8Array[] = [];
  let header = new Uint8Array(0);
  const replied = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no SOCKS5 reply in time")), timeoutMs);
    conn.setReceiver((bytes) => {
      if (header.byteLength >= REPLY_BYTES) {
        if (receiver) receiver(bytes);
        else early.push(bytes);
        return;
      }
      const joined = new Uint8Array(header.byteLength + bytes.byteLength);
      joined.set(header);
      joined.set(bytes, header.byteLength);
      header = joined.subarray(0, Math.min(joined.byteLength, REPLY_BYTES));
      if (joined.byteLength > REPLY_BYTES) early.push(joined.subarray(REPLY_BYTES));
      if (header.byteLength < REPLY_BYTES) return;
      clearTimeout(timer);
      if (header[1] !== 0x00 || header[3] !== 0x00)
        reject(new Error(`SOCKS5 refused: reply ${header[3]}`));
      else resolve();
    });
    void conn.closed.then((reason) =>
      reject(new Error(`closed before the SOCKS5 reply: ${reason}`)),
    );
  });
  await replied.catch((error: unknown) => {
    conn.close();
    throw error;
  });
  return {
    ...conn,
    setReceiver(next) {
      receiver = next;
      const waiting = early;
      early = [];
      for (const bytes of waiting) next(bytes);
    },
  };
}
