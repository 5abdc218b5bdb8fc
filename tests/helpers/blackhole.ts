import { connect, type Socket } from "node:net";
import { waitForFullAcceptQueue } from "./tcp-table.ts";

export interface Blackhole {
  readonly port: number;
  /** Starts accepting, after which connections that the kernel had not queued succeed on their next SYN. */
  acceptAll(): void;
  /** SHA-256 (hex) of the bytes of each accepted connection that has reached end of stream. */
  finished(): string[];
  stop(): Promise<void>;
}

// Bun's listeners always accept, so a tiny Python process holds a listening socket that never does.
// On a line "accept" on stdin it starts accepting, and prints the SHA-256 of each connection's
// bytes at its end of stream. It exits when its stdin closes (stop(), or the test process gone).
const SCRIPT = `
import hashlib, os, socket, sys, threading
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0)
print(s.getsockname()[1], flush=True)
def serve(conn):
    digest = hashlib.sha256()
    while True:
        try:
            chunk = conn.recv(1 << 20)
        except ConnectionResetError:
            return
        if not chunk:
            break
        digest.update(chunk)
    print("eof " + digest.hexdigest(), flush=True)
def exit_at_eof():
    sys.stdin.read()
    os._exit(0)
if sys.stdin.readline().strip() == "accept":
    threading.Thread(target=exit_at_eof, daemon=True).start()
    # A queue of one lets a handshake that completes while it is full be dropped by the kernel
    # (its client believes it is connected); a longer one, and accepting until the end, do not.
    s.listen(128)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()
`;

/**
 * A loopback listener whose accept queue is full, so that a further connection attempt gets no
 * answer at all (its SYNs are dropped): the "target did not accept" case, without leaving loopback.
 */
export async function startBlackhole(): Promise<Blackhole> {
  const proc = Bun.spawn(["python3", "-c", SCRIPT], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const lines: string[] = [];
  let firstLine: () => void = () => {};
  const gotPort = new Promise<void>((resolve) => {
    firstLine = resolve;
  });
  void (async () => {
    let text = "";
    for await (const chunk of proc.stdout) {
      text += new TextDecoder().decode(chunk);
      const parts = text.split("\n");
      text = parts.pop() ?? "";
      lines.push(...parts);
      if (lines.length > 0) firstLine();
    }
  })();
  await gotPort;
  const port = Number(lines[0]);
  if (!Number.isInteger(port) || port <= 0)
    throw new Error("blackhole listener did not report its port");
  const fillers: Socket[] = [];
  // With a backlog of 0 the kernel queues one connection; the others' SYNs are dropped. Waiting
  // for the kernel to report the queue full is what makes the next SYN go unanswered.
  for (let i = 0; i < 3; i++) {
    const socket = connect({ host: "127.0.0.1", port });
    socket.on("error", () => {});
    fillers.push(socket);
  }
  await waitForFullAcceptQueue(port);
  return {
    port,
    acceptAll() {
      proc.stdin.write("accept\n");
      proc.stdin.flush();
    },
    finished: () => lines.slice(1).map((line) => line.replace(/^eof /, "")),
    async stop() {
      for (const socket of fillers) socket.destroy();
      proc.stdin.end();
      proc.kill();
      await proc.exited;
    },
  };
}
