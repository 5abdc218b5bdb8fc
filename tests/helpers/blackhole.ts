import { connect, type Socket } from "node:net";

export interface Blackhole {
  readonly port: number;
  stop(): Promise<void>;
}

// Bun's listeners always accept, so a tiny Python process holds a listening socket that never does.
const SCRIPT = `
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0)
print(s.getsockname()[1], flush=True)
sys.stdin.read()
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
  const reader = proc.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  const port = Number(new TextDecoder().decode(value).trim());
  if (!Number.isInteger(port) || port <= 0)
    throw new Error("blackhole listener did not report its port");
  const fillers: Socket[] = [];
  // With a backlog of 0 the kernel queues one connection or two; a few more than that are refused
  // or dropped, which leaves the queue full.
  for (let i = 0; i < 3; i++) {
    const socket = connect({ host: "127.0.0.1", port });
    socket.on("error", () => {});
    fillers.push(socket);
  }
  await Bun.sleep(100);
  return {
    port,
    async stop() {
      for (const socket of fillers) socket.destroy();
      proc.stdin.end();
      proc.kill();
      await proc.exited;
    },
  };
}
