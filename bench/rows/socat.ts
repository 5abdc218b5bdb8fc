// socat: Debian's socat as a TCP-to-TCP relay, forking per connection, 64 KiB buffer.
// nodelay on both legs, as Bun sets on its sockets, so latency compares like with like.
import { startListening } from "./listening.ts";
import type { Row } from "./row.ts";

export const socat: Row = {
  id: "socat",
  label: "socat (TCP relay)",
  forks: true,
  unavailable: () => (Bun.which("socat") ? null : "socat not installed (bench/install-peers.sh)"),
  async start(ctx) {
    const { proc, port } = await startListening("socat", (p) => [
      "socat",
      "-b",
      "65536",
      `TCP-LISTEN:${p},bind=127.0.0.1,fork,reuseaddr,backlog=4096,nodelay`,
      `TCP:${ctx.targetHost}:${ctx.targetPort},nodelay`,
    ]);
    return {
      endpoint: { dialect: "tcp", host: "127.0.0.1", port },
      pid: proc.pid,
      stop: () => proc.stop(),
    };
  },
};
