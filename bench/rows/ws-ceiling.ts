// ws-ceiling: a Bun WebSocket server that is itself the target (servers/ws-ceiling.ts).
import { startListening } from "./listening.ts";
import { BUN, ROOT, type Row } from "./row.ts";

export const wsCeiling: Row = {
  id: "ws-ceiling",
  label: "ws-ceiling (Bun WS, no TCP hop)",
  unavailable: () => null,
  async start(ctx) {
    const { proc, port } = await startListening(
      "ws-ceiling",
      (p) => [BUN, "run", `${ROOT}bench/servers/ws-ceiling.ts`, String(p)],
      { readyText: "listening on" },
    );
    return {
      endpoint: {
        dialect: "s2w",
        url: `ws://127.0.0.1:${port}/`,
        targetHost: ctx.targetHost,
        targetPort: ctx.targetPort,
      },
      pid: proc.pid,
      stop: () => proc.stop(),
    };
  },
};
