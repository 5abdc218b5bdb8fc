// The WispMark-style load client, in its own process (bench/phases/wispmark.ts starts several):
// wisp-js's own client library, one Wisp connection with N streams to a TCP echo target, every
// stream kept full with PAYLOAD-byte sends. "Full" means the stream always has a send waiting
// for credit, so the client spends each CONTINUE the moment it arrives and the server's flow
// control alone sets the pace. Echoed bytes are read and dropped. Prints {"ready": true} once the
// connection is open and the streams are created, then runs until it is killed.
import { client as wisp } from "@mercuryworkshop/wisp-js/client";

interface Stream {
  send(data: Uint8Array): void;
  send_buffer: unknown[];
  continue_received(bufferSize: number): void;
  onmessage: (data: Uint8Array) => void;
  onclose: (reason: number) => void;
}
interface Connection {
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

function fail(why: string): never {
  console.log(JSON.stringify({ error: why }));
  process.exit(1);
}

/** Queues sends until WAITING of them wait for credit (those within credit go out at once). */
function topUp(stream: Stream): void {
  while (stream.send_buffer.length < WAITING) stream.send(payload);
}

const connection = new wisp.ClientConnection(url) as unknown as Connection;
connection.onclose = () => fail("wisp connection closed");
connection.onerror = () => fail("wisp connection error");
connection.onopen = () => {
  for (let i = 0; i < streams; i++) {
    const stream = connection.create_stream(host, port);
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
};
