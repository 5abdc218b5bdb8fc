// websockify: Debian's Python WebSocket-to-TCP relay, with a fixed target.
import { startListening } from "./listening.ts";
import type { Row } from "./row.ts";

export const websockify: Row = {
  id: "websockify",
  label: "websockify (Python)",
  unavailable: () =>
    Bun.which("websockify") ? null : "websockify not installed (bench/install-peers.sh)",
  maxSessions: { count: 1000, why: "fails past ~500 concurrent (select())" },
  forks: true,
  async start(ctx) {
    const { proc, port } = await startListening("websockify", (p) => [
      "websockify",
      `127.0.0.1:${p}`,
      `${ctx.targetHost}:${ctx.targetPort}`,
    ]);
    return {
      endpoint: { dialect: "ws-raw", url: `ws://127.0.0.1:${port}/` },
      pid: proc.pid,
      stop: () => proc.stop(),
    };
  },
};
