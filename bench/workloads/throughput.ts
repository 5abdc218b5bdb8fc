// Workload 1, client side: bulk bytes on one connection with a bounded in-flight window.
//   echo:     send N bytes, read them back; in flight = sent - echoed.
//   upload:   send N bytes to the sink; in flight = sent - acknowledged; ends with its digest.
//   download: the source writes N bytes; the client reads (TCP and WebSocket flow control).
// Every byte is SHA-256 checked against the pattern stream.
import type { Conn } from "../client/conn.ts";
import { patternDigest, patternSlice } from "../lib/pattern.ts";
import { ACK_BYTES, DIGEST_BYTES, encodeHeader, TargetMode } from "../lib/target-header.ts";

export type ThroughputMode = "echo" | "upload" | "download";

export interface ThroughputOptions {
  totalBytes: number;
  chunkBytes: number;
  windowBytes: number;
  timeoutMs: number;
}

export interface ThroughputResult {
  mode: ThroughputMode;
  bytes: number;
  seconds: number;
  mibPerSecond: number;
  digestOk: boolean;
}

const MODE_OF = {
  echo: TargetMode.echo,
  upload: TargetMode.sink,
  download: TargetMode.source,
} as const;

export async function runThroughput(
  conn: Conn,
  mode: ThroughputMode,
  options: ThroughputOptions,
): Promise<ThroughputResult> {
  const { totalBytes, chunkBytes, windowBytes } = options;
  const expected = patternDigest(totalBytes);
  const hasher = new Bun.CryptoHasher("sha256");
  let sent = 0;
  let progress = 0; // bytes echoed back (echo), acknowledged (upload) or received (download)
  let pumping = false;
  let waiting = false;
  let sinkDigest = "";
  let ackBuffer = new Uint8Array(0);

  const { promise, resolve, reject } = Promise.withResolvers<void>();
  const timer = setTimeout(
    () =>
      reject(
        new Error(`${mode}: ${progress} of ${totalBytes} bytes after ${options.timeoutMs} ms`),
      ),
    options.timeoutMs,
  );
  void conn.closed.then((why) =>
    reject(new Error(`${mode}: connection ended after ${progress} bytes: ${why}`)),
  );

  const pump = () => {
    if (pumping || waiting) return;
    pumping = true;
    while (sent < totalBytes && sent - progress < windowBytes) {
      if (!conn.writable()) {
        waiting = true;
        void conn.whenWritable().then(() => {
          waiting = false;
          pump();
        });
        break;
      }
      const n = Math.min(chunkBytes, totalBytes - sent);
      conn.write(patternSlice(sent, n));
      sent += n;
    }
    pumping = false;
  };

  const onAckBytes = (bytes: Uint8Array) => {
    const merged = new Uint8Array(ackBuffer.byteLength + bytes.byteLength);
    merged.set(ackBuffer);
    merged.set(bytes, ackBuffer.byteLength);
    let at = 0;
    const view = new DataView(merged.buffer);
    while (progress < totalBytes && merged.byteLength - at >= ACK_BYTES) {
      progress = Number(view.getBigUint64(at, true));
      at += ACK_BYTES;
    }
    if (progress >= totalBytes && merged.byteLength - at >= DIGEST_BYTES) {
      sinkDigest = Buffer.from(merged.subarray(at, at + DIGEST_BYTES)).toString("hex");
      resolve();
      return;
    }
    ackBuffer = merged.slice(at);
    pump();
  };

  conn.setReceiver(
    mode === "upload"
      ? onAckBytes
      : (bytes) => {
          hasher.update(bytes);
          progress += bytes.byteLength;
          if (progress >= totalBytes) resolve();
          else if (mode === "echo") pump();
        },
  );

  const started = performance.now();
  conn.write(encodeHeader(MODE_OF[mode], totalBytes));
  if (mode !== "download") pump();
  try {
    await promise;
  } finally {
    clearTimeout(timer);
  }
  const seconds = (performance.now() - started) / 1000;
  const digest = mode === "upload" ? sinkDigest : hasher.digest("hex");
  return {
    mode,
    bytes: totalBytes,
    seconds,
    mibPerSecond: totalBytes / 1024 / 1024 / seconds,
    digestOk: digest === expected && progress === totalBytes,
  };
}
