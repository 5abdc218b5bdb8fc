// The WispMark-style target, in its own process: a TCP echo server that counts the bytes it
// receives (the throughput figure is what passes through this port). Prints {"port": N} when it
// listens; each stdin line `count SEQ` is answered with {"seq": SEQ, "bytes": TOTAL} on stdout.
// An echo that the client is slow to read pauses that connection, so nothing queues past one read.
import type { Socket } from "bun";

interface Conn {
  queue: Uint8Array[];
}

let received = 0;

/** Writes what the kernel takes; keeps the rest for `drain`. True when nothing is left. */
function flush(socket: Socket<Conn>): boolean {
  const queue = socket.data.queue;
  while (queue.length > 0) {
    const head = queue[0] as Uint8Array;
    const written = socket.write(head);
    if (written < 0) {
      queue.length = 0;
      return true;
    }
    if (written < head.byteLength) {
      queue[0] = head.subarray(written);
      return false;
    }
    queue.shift();
  }
  return true;
}

const listener = Bun.listen<Conn>({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open(socket) {
      socket.data = { queue: [] };
      socket.setNoDelay(true);
    },
    data(socket, data) {
      received += data.byteLength;
      socket.data.queue.push(data);
      if (!flush(socket)) socket.pause();
    },
    drain(socket) {
      if (flush(socket)) socket.resume();
    },
    error() {},
  },
});

console.log(JSON.stringify({ port: listener.port }));

let pending = "";
for await (const chunk of Bun.stdin.stream()) {
  pending += new TextDecoder().decode(chunk);
  let newline = pending.indexOf("\n");
  while (newline >= 0) {
    const line = pending.slice(0, newline).trim();
    pending = pending.slice(newline + 1);
    const [command, seq] = line.split(" ");
    if (command === "count") console.log(JSON.stringify({ seq: Number(seq), bytes: received }));
    newline = pending.indexOf("\n");
  }
}
listener.stop(true);
process.exit(0);
