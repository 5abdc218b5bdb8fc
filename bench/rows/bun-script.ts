// A row served by one of the bench's own Bun scripts, which takes its port as the only argument,
// prints "listening on" and speaks the Socket2Web protocol at "/".
import { startListening } from "./listening.ts";
import { BUN, ROOT, type Row } from "./row.ts";

export function bunScriptRow(id: string, label: string, script: string): Row {
  return {
    id,
    label,
    unavailable: () => null,
    async start(ctx) {
      const { proc, port } = await startListening(
        id,
        (p) => [BUN, "run", `${ROOT}bench/${script}`, String(p)],
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
}
