// lean relay: the leanest Bun WebSocket→TCP relay for the Socket2Web protocol
// (profile/lean-relay.ts: Bun.serve + Bun.connect, no policy, no logging, no timers). The
// yardstick for socket2web's own cost: what any Bun relay pays.
import { startListening } from "./listening.ts";
import { BUN, ROOT, type Row } from "./row.ts";

export const leanRelay: Row = {
  id: "lean-relay",
  label: "lean relay (Bun, yardstick)",
  unavailable: () => null,
  async start(ctx) {
    const { proc, port } = await startListening(
      "lean-relay",
      (p) => [BUN, "run", `${ROOT}bench/profile/lean-relay.ts`, String(p)],
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
