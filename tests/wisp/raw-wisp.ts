// A Wisp peer built by hand on a plain WebSocket, for packets no real client would send.
import { decodePacket, type Packet } from "../../src/wisp/packet.ts";

export interface RawWisp {
  readonly packets: Packet[];
  send(bytes: Uint8Array | string): void;
  /** Bytes sent that the WebSocket has not written to the socket yet. */
  bufferedAmount(): number;
  isClosed(): boolean;
  /** Resolves with the first packet (in arrival order, from the start) that matches. */
  next(match: (packet: Packet) => boolean, timeoutMs?: number): Promise<Packet>;
  readonly closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

/** `headers` (Origin, Authorization) go with the upgrade, as Bun's WebSocket allows. */
export async function openRawWisp(
  url: string,
  protocols?: string[],
  headers?: Record<string, string>,
): Promise<RawWisp> {
  const ws = headers
    ? new WebSocket(url, { ...(protocols ? { protocols } : {}), headers } as unknown as string[])
    : new WebSocket(url, protocols);
  ws.binaryType = "arraybuffer";
  const packets: Packet[] = [];
  const waiters = new Set<() => void>();
  ws.onmessage = (event) => {
    packets.push(decodePacket(new Uint8Array(event.data as ArrayBuffer)));
    for (const wake of [...waiters]) wake();
  };
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.onclose = (event) => {
      resolve({ code: event.code, reason: event.reason });
      for (const wake of [...waiters]) wake();
    };
  });
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = (event) =>
      reject(new Error(`WebSocket to ${url} failed: ${(event as ErrorEvent).message ?? ""}`));
  });
  return {
    packets,
    send: (bytes) => ws.send(bytes),
    bufferedAmount: () => ws.bufferedAmount,
    isClosed: () => ws.readyState === WebSocket.CLOSED,
    next(match, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = packets.find(match);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          } else if (ws.readyState === WebSocket.CLOSED) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error("closed before the packet came"));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error("the packet did not come"));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    closed,
    close: () => ws.close(),
  };
}

export const isClose = (streamId: number) => (p: Packet) =>
  p.type === "close" && p.streamId === streamId;

export const dataBytes = (packets: Packet[], streamId: number): number =>
  packets.reduce(
    (sum, p) => sum + (p.type === "data" && p.streamId === streamId ? p.payload.byteLength : 0),
    0,
  );
