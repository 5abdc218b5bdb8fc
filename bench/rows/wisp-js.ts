// wisp-js: @mercuryworkshop/wisp-js's own server CLI on Node.js (its home runtime), with
// loopback targets allowed; the client side uses its own client library (dial-wisp.ts).
import { existsSync } from "node:fs";
import { startListening } from "./listening.ts";
import { ROOT, type Row } from "./row.ts";

const CLI = `${ROOT}node_modules/@mercuryworkshop/wisp-js/src/bin/server_cli.mjs`;

export const wispJs: Row = {
  id: "wisp-js",
  label: "wisp-js (Node.js)",
  unavailable: () => {
    if (!existsSync(CLI)) return "wisp-js not installed (make deps)";
    return Bun.which("node") ? null : "node not found";
  },
  async start(ctx) {
    const options = JSON.stringify({ allow_loopback_ips: true, allow_private_ips: true });
    const { proc, port } = await startListening("wisp-js", (p) => [
      "node",
      CLI,
      "--host",
      "127.0.0.1",
      "--port",
      String(p),
      "--logging",
      "NONE",
      "--options",
      options,
    ]);
    return {
      endpoint: {
        dialect: "wisp",
        url: `ws://127.0.0.1:${port}/`,
        targetHost: ctx.targetHost,
        targetPort: ctx.targetPort,
      },
      pid: proc.pid,
      stop: () => proc.stop(),
    };
  },
};

/** The wisp-js server on its own, for the Wisp phases: its URL, PID and how to stop it. */
export async function startWispJsServer(): Promise<{
  url: string;
  pid: number;
  stop(): Promise<void>;
}> {
  const running = await wispJs.start({
    targetHost: "127.0.0.1",
    targetPort: 0,
    targetTlsPort: 0,
    targetCaFile: "",
  });
  const { url } = running.endpoint as { url: string };
  return { url, pid: running.pid ?? 0, stop: () => running.stop() };
}
