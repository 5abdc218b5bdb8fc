import type { Server } from "bun";

export interface UrlFormServer {
  readonly url: string;
  /** The query of each upgrade, in order. */
  readonly queries: Record<string, string>[];
  /** Text messages each connection received (a URL-form client sends none). */
  readonly textMessages: string[];
  stop(): void;
}

/**
 * A stand-in for a server that takes the handshake in the upgrade URL (PROTOCOL section 9) and
 * answers with the status as its first frame, then echoes binary frames. `refuse` makes it
 * answer with an error status and the matching close instead.
 */
export function startUrlFormServer(refuse?: {
  error: string;
  reason: string;
  code: number;
}): UrlFormServer {
  const queries: Record<string, string>[] = [];
  const textMessages: string[] = [];
  const server: Server<Record<string, string>> = Bun.serve<Record<string, string>>({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request, srv) {
      const query = Object.fromEntries(new URL(request.url).searchParams);
      queries.push(query);
      return srv.upgrade(request, { data: query })
        ? undefined
        : new Response("not an upgrade", { status: 400 });
    },
    websocket: {
      open(ws) {
        const { protocol, target_port, token: _token, ...fields } = ws.data;
        if (refuse) {
          ws.send(JSON.stringify({ status: "error", error: refuse.error, reason: refuse.reason }));
          ws.close(refuse.code, refuse.error);
          return;
        }
        ws.send(
          JSON.stringify({
            status: "connected",
            protocol,
            ...fields,
            ...(target_port === undefined ? {} : { target_port: Number(target_port) }),
          }),
        );
      },
      message(ws, message) {
        if (typeof message === "string") textMessages.push(message);
        else ws.send(message);
      },
    },
  });
  return {
    url: `ws://127.0.0.1:${server.port}`,
    queries,
    textMessages,
    stop: () => server.stop(true),
  };
}
