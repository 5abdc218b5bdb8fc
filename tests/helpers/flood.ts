import type { TCPSocketListener } from "bun";

export interface FloodTarget {
  readonly port: number;
  /** Bytes the kernel has taken from the target so far. */
  sent(): number;
  stop(): void;
}

/** A loopback target that writes `total` bytes as fast as its peer takes them, then ends. */
export function startFloodTarget(total: number): FloodTarget {
  const block = new Uint8Array(256 * 1024).fill(0x5a);
  let sent = 0;
  const pump = (socket: { write(data: Uint8Array): number; end(): void }) => {
    while (sent < total) {
      const size = Math.min(block.byteLength, total - sent);
      const written = socket.write(block.subarray(0, size));
      sent += Math.max(written, 0);
      if (written < size) return; // The rest goes on drain; sent counts only what was taken.
    }
    socket.end();
  };
  const listener: TCPSocketListener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: { open: pump, drain: pump, data() {}, error() {} },
  });
  return { port: listener.port, sent: () => sent, stop: () => listener.stop(true) };
}
