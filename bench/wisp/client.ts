// The Wisp bench's load client, in its own process: wisp-js's own client library on one Wisp
// connection. Workloads: `download` (each of N streams reads BYTES from the target's source mode),
// `upload` (each stream writes BYTES to the sink, which acknowledges and hashes them), and `opens`
// (COUNT streams opened one after another on the connection, each proven with a 1-byte echo).
// Prints one JSON line with the result and the client's own CPU seconds. Runs on Node.js, wisp-js's
// home runtime (bench/phases/wisp.ts bundles it), or on Bun.
import { client as wisp } from "@mercuryworkshop/wisp-js/client";
import { encodeHeader, TargetMode } from "../lib/target-header.ts";

interface Stream {
  send(data: Uint8Array): void;
  close(reason?: number): void;
  send_buffer: unknown[];
  onmessage: (data: Uint8Array) => void;
  onclose: (reason: number) => void;
}
interface Connection {
  onopen: () => void;
  onclose: () => void;
  onerror: () => void;
  create_stream(host: string, port: number): Stream;
  close(): void;
}

const args = new Map(
  process.argv.slice(2).map((arg) => {
    const [key, value = ""] = arg.replace(/^--/, "").split("=");
    return [key as string, value];
  }),
);
const url = args.get("url") as string;
const [host = "127.0.0.1", portText = "0"] = (args.get("target") ?? "").split(":");
const port = Number(portText);
const workload = args.get("workload") ?? "download";
const streams = Number(args.get("streams") ?? 1);
const bytes = Number(args.get("bytes") ?? 64 * 1024 * 1024);
const count = Number(args.get("count") ?? 1000);
/** Opens in flight at once (`opens`): a rate, not a round-trip latency. */
const concurrency = Number(args.get("concurrency") ?? 16);
const timeoutMs = Number(args.get("timeout-ms") ?? 120_000);

function connect(): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const connection = new wisp.ClientConnection(url) as unknown as Connection;
    connection.onopen = () => resolve(connection);
    connection.onclose = () => reject(new Error("wisp connection closed"));
    connection.onerror = () => reject(new Error("wisp connection error"));
  });
}

function download(connection: Connection): Promise<void> {
  const stream = connection.create_stream(host, port);
  return new Promise((resolve, reject) => {
    let received = 0;
    stream.onmessage = (data) => {
      received += data.byteLength;
      if (received >= bytes) resolve();
    };
    stream.onclose = (reason) => {
      if (received < bytes)
        reject(new Error(`stream closed (0x${reason.toString(16)}) at ${received}`));
    };
    stream.send(encodeHeader(TargetMode.source, bytes));
  });
}

async function upload(connection: Connection): Promise<void> {
  const stream = connection.create_stream(host, port);
  const chunk = new Uint8Array(64 * 1024).fill(7);
  let acked = 0;
  const done = new Promise<void>((resolve, reject) => {
    let pending = new Uint8Array(0);
    stream.onmessage = (data) => {
      // Acknowledgements are u64 byte counts, then the digest once everything arrived.
      const all = new Uint8Array(pending.byteLength + data.byteLength);
      all.set(pending);
      all.set(data, pending.byteLength);
      let offset = 0;
      while (all.byteLength - offset >= 8 && acked < bytes) {
        acked = Number(new DataView(all.buffer, offset, 8).getBigUint64(0, true));
        offset += 8;
      }
      pending = all.slice(offset);
      if (acked >= bytes) resolve();
    };
    stream.onclose = (reason) => {
      if (acked < bytes) reject(new Error(`stream closed (0x${reason.toString(16)}) at ${acked}`));
    };
  });
  stream.send(encodeHeader(TargetMode.sink, bytes));
  // wisp-js queues what its credit does not cover and sends it the moment a CONTINUE arrives, so
  // all of it is handed over at once (the same chunk each time: memory stays small); waiting here
  // instead would measure this loop's timer rather than the server.
  for (let sent = 0; sent < bytes; sent += chunk.byteLength) {
    stream.send(sent + chunk.byteLength <= bytes ? chunk : chunk.subarray(0, bytes - sent));
  }
  await done;
}

function openOnce(connection: Connection): Promise<void> {
  const stream = connection.create_stream(host, port);
  return new Promise((resolve, reject) => {
    stream.onmessage = () => {
      stream.close(0x02);
      resolve();
    };
    stream.onclose = (reason) => reject(new Error(`stream closed (0x${reason.toString(16)})`));
    const header = encodeHeader(TargetMode.echo, 0);
    stream.send(header);
    stream.send(Uint8Array.of(1));
  });
}

/** User + system CPU of this process since `since`. */
function cpuSeconds(since: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1e6;
}

async function main(): Promise<void> {
  const timer = setTimeout(() => {
    console.log(JSON.stringify({ error: `timed out after ${timeoutMs} ms` }));
    process.exit(1);
  }, timeoutMs);
  const connection = await connect();
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  if (workload === "opens") {
    let next = 0;
    const worker = async () => {
      while (next < count) {
        next++;
        await openOnce(connection);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    const seconds = (performance.now() - started) / 1000;
    console.log(
      JSON.stringify({
        workload,
        count,
        concurrency,
        seconds,
        perSecond: count / seconds,
        cpuSeconds: cpuSeconds(cpuAtStart),
      }),
    );
  } else {
    const run = workload === "upload" ? upload : download;
    await Promise.all(Array.from({ length: streams }, () => run(connection)));
    const seconds = (performance.now() - started) / 1000;
    const total = streams * bytes;
    console.log(
      JSON.stringify({
        workload,
        streams,
        bytes: total,
        seconds,
        mbPerSecond: total / 1e6 / seconds,
        cpuSeconds: cpuSeconds(cpuAtStart),
      }),
    );
  }
  clearTimeout(timer);
  connection.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  console.log(JSON.stringify({ error: String(error) }));
  process.exit(1);
});
