import type { Server } from "bun";

export interface GreetingServer {
  readonly url: string;
  /** The query of each upgrade, in order (a server that greets ignores it). */
  readonly queries: Record<string, string>[];
  stop(): void;
}

/**
 * A stand-in for a server from before the URL form (PROTOCOL section 9): it ignores the query,
 * greets, takes the handshake message, answers `connected` and echoes binary frames. For the
 * client library's fallback from the URL form to the greeting.
 */
export function startGreetingServer(): GreetingServer {
  const queries: Record<string, string>[] = [];
  const server: Server<{ handshake: boolean }> = Bun.serve<{ handshake: boolean }>({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request, srv) {
      queries.push(Object.fromEntries(new URL(request.url).searchParams));
      return srv.upgrade(request, { data: { handshake: false } })
        ? undefined
        : new Response("not an upgrade", { status: 400 });
    },
    websocket: {
      open(ws) {
        ws.send(
          JSON.stringify({
            "supported protocols": {
              tcp: { target_ip: "IP Address", target_port: "Port for IP Address" },
            },
          }),
        );
      },
      message(ws, message) {
        if (ws.data.handshake) {
          ws.send(message);
          return;
        }
        ws.data.handshake = true;
        const handshake = JSON.parse(String(message)) as Record<string, unknown>;
        ws.send(JSON.stringify({ ...handshake, token: undefined, status: "connected" }));
      },
    },
  });
  return { url: `ws://127.0.0.1:${server.port}`, queries, stop: () => server.stop(true) };
}
