// The WispMark-style load client, in its own process (bench/phases/wispmark.ts starts several):
// wisp-js's own client library, one Wisp connection with N streams to a TCP echo target, every
// stream kept full with PAYLOAD-byte sends. "Full" means the stream always has a send waiting
// for credit, so the client spends each CONTINUE the moment it arrives and the server's flow
// control alone sets the pace. Echoed bytes are read and dropped. Prints {"ready": true} once the
// connection is open and the streams are created, then runs until it is killed.
import { client as wisp } from "@mercuryworkshop/wisp-js/client";

interface Stream {
  send(data: Uint8Array): void;
  /** Credit left: DATA packets the stream may send before the next CONTINUE. */
  buffer_size: number;
  send_buffer: unknown[];
  continue_received(bufferSize: number): void;
  onmessage: (data: Uint8Array) => void;
  onclose: (reason: number) => void;
}
interface Connection {
  /** Node's `ws` WebSocket under wisp-js: its queue, and the TCP socket whose drain empties it. */
  ws: { bufferedAmount: number; _socket?: { once(event: "drain", listener: () => void): void } };
  onopen: () => void;
  onclose: () => void;
  onerror: () => void;
  create_stream(host: string, port: number): Stream;
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
const streams = Number(args.get("streams") ?? 1);
const payload = new Uint8Array(Number(args.get("payload") ?? 50 * 1024)).fill(0x61);
/** Sends kept waiting for credit per stream. */
const WAITING = 2;
/**
 * Bytes the client lets queue in its own WebSocket before it waits for the socket to drain, as a
 * browser page watching `bufferedAmount` would: a server whose CONTINUE outruns what the
 * WebSocket carries would otherwise have the client queue without bound (seen with the wisp-js
 * server on one stream: hundreds of MB queued in the client and nothing reaching the target).
 */
const QUEUED_MOST = 4 * 1024 * 1024;

function fail(why: string): never {
  console.log(JSON.stringify({ error: why }));
  process.exit(1);
}

const streamsOpen: Stream[] = [];
let waitingForDrain = false;

/**
 * Queues sends until WAITING of them wait for credit (those within credit go out at once), while
 * the WebSocket's own queue is below QUEUED_MOST; past it, every stream is topped up again once
 * the socket drains.
 */
function topUp(stream: Stream): void {
  const ws = connection.ws;
  while (stream.send_buffer.length < WAITING) {
    if (ws.bufferedAmount >= QUEUED_MOST) {
      if (!waitingForDrain && ws._socket) {
        waitingForDrain = true;
        ws._socket.once("drain", () => {
          waitingForDrain = false;
          for (const open of streamsOpen) topUp(open);
        });
      }
      return;
    }
    stream.send(payload);
  }
}

const connection = new wisp.ClientConnection(url) as unknown as Connection;
connection.onclose = () => fail("wisp connection closed");
connection.onerror = () => fail("wisp connection error");
connection.onopen = () => {
  for (let i = 0; i < streams; i++) {
    const stream = connection.create_stream(host, port);
    streamsOpen.push(stream);
    stream.onmessage = () => {};
    stream.onclose = (reason) => fail(`stream closed (0x${reason.toString(16)})`);
    // wisp-js spends a CONTINUE on what waits in send_buffer; refill right after it.
    const onContinue = stream.continue_received.bind(stream);
    stream.continue_received = (bufferSize) => {
      onContinue(bufferSize);
      topUp(stream);
    };
    topUp(stream);
  }
  console.log(JSON.stringify({ ready: true }));
  if (args.has("trace")) traceCredit();
};

/**
 * `--trace` (bench/profile/wisp-trace.ts): every 5 ms, how each stream stands — waiting for
 * credit (sends queued, no credit left) or not — and the WebSocket's own queue. SIGUSR2 prints
 * what was sampled since the last SIGUSR2 as one JSON line and starts afresh.
 */
function traceCredit(): void {
  let samples = 0;
  let waitingForCredit = 0;
  let creditLeft = 0;
  let queued = 0;
  let queuedMost = 0;
  setInterval(() => {
    for (const stream of streamsOpen) {
      samples++;
      creditLeft += Math.max(0, stream.buffer_size);
      if (stream.buffer_size <= 0 && stream.send_buffer.length > 0) waitingForCredit++;
    }
    queued += connection.ws.bufferedAmount;
    queuedMost = Math.max(queuedMost, connection.ws.bufferedAmount);
  }, 5);
  process.on("SIGUSR2", () => {
    const perStream = Math.max(1, samples);
    const perConnection = Math.max(1, samples / Math.max(1, streamsOpen.length));
    console.log(
      JSON.stringify({
        trace: {
          streamSamples: samples,
          waitingForCreditShare: waitingForCredit / perStream,
          meanCreditLeft: creditLeft / perStream,
          meanWsQueued: queued / perConnection,
          mostWsQueued: queuedMost,
        },
      }),
    );
    samples = waitingForCredit = creditLeft = queued = queuedMost = 0;
  });
}
