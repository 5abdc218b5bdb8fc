// The client commands in front of a socket2web server, both from source: `forward` (one fixed
// target per local port), `socks` (SOCKS5, one WebSocket per connection) and `socks --mux` (every
// connection a stream of one Wisp connection). Measured for session set-up and throughput.
import { startListening } from "./listening.ts";
import { BUN, ROOT, type Row } from "./row.ts";
import { SOURCE_ENTRY, socket2webArgs } from "./socket2web.ts";

type ClientMode = "forward" | "socks" | "socks-mux";

function clientRow(id: string, label: string, mode: ClientMode): Row {
  return {
    id,
    label,
    optIn: true,
    unavailable: () => null,
    async start(ctx) {
      const wisp = mode === "socks-mux" ? ["--wisp", "/wisp/", "--wisp-max-streams", "20000"] : [];
      const server = await startListening(
        `${id}-server`,
        (p) => [BUN, "run", SOURCE_ENTRY, ...socket2webArgs(p), ...wisp],
        { readyText: "listening on", cwd: ROOT },
      );
      const serverUrl = `ws://127.0.0.1:${server.port}/${mode === "socks-mux" ? "wisp/" : ""}`;
      const modeArgs =
        mode === "forward"
          ? ["forward", "--target", `${ctx.targetHost}:${ctx.targetPort}`]
          : ["socks", "--max-connections", "20000", ...(mode === "socks-mux" ? ["--mux"] : [])];
      try {
        const client = await startListening(
          id,
          (p) => [
            BUN,
            "run",
            SOURCE_ENTRY,
            ...modeArgs,
            "--listen",
            `127.0.0.1:${p}`,
            "--server",
            serverUrl,
            "--log-level",
            "warn",
          ],
          { cwd: ROOT },
        );
        return {
          endpoint:
            mode === "forward"
              ? { dialect: "tcp", host: "127.0.0.1", port: client.port }
              : {
                  dialect: "socks5",
                  host: "127.0.0.1",
                  port: client.port,
                  targetHost: ctx.targetHost,
                  targetPort: ctx.targetPort,
                },
          // The client process: what differs between these rows (the server is the same).
          pid: client.proc.pid,
          async stop() {
            await client.proc.stop();
            await server.proc.stop();
          },
        };
      } catch (error) {
        await server.proc.stop();
        throw error;
      }
    },
  };
}

export const forwardClient = clientRow(
  "forward",
  "socket2web forward (client + server)",
  "forward",
);
export const socksClient = clientRow("socks", "socket2web socks (client + server)", "socks");
export const socksMuxClient = clientRow(
  "socks-mux",
  "socket2web socks --mux (client + server)",
  "socks-mux",
);
