import { afterAll, expect, test } from "bun:test";
import { createConsola, LogLevels } from "consola";
import { defaultServerConfig } from "../config/defaults.ts";
import { mapResolver } from "../net/resolver.ts";
import { IDLE_COLLECT } from "./idle-collect.ts";
import { startServer } from "./server.ts";

// The server's wiring of the idle collection: real WebSocket sessions to a loopback target end,
// the server falls quiet, and it asks for one collection.

let collected: () => void = () => {};
let collections = 0;
const server = startServer(
  { ...(await defaultServerConfig()), port: 0 },
  {
    logger: createConsola({ level: LogLevels.silent }),
    resolver: mapResolver({}),
    collectGarbage: () => {
      collections++;
      collected();
    },
  },
);
const target = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: { data() {} },
});
afterAll(async () => {
  await server.shutdown(0);
  target.stop(true);
});

/** Greeting → handshake → `connected` → client close; resolves once the WebSocket is closed. */
function session(): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(server.url);
    let status = "";
    ws.onmessage = (event) => {
      const message = JSON.parse(String(event.data)) as { status?: string };
      if (message.status === undefined) {
        ws.send(
          JSON.stringify({ protocol: "tcp", target_ip: "127.0.0.1", target_port: target.port }),
        );
        return;
      }
      status = message.status;
      ws.close();
    };
    ws.onclose = () => resolve(status);
    ws.onerror = () => reject(new Error("WebSocket error"));
  });
}

test("after enough sessions end and the server falls quiet, it runs one collection", async () => {
  const done = new Promise<void>((resolve) => {
    collected = resolve;
  });
  const statuses: string[] = [];
  const total = IDLE_COLLECT.threshold + 4;
  for (let started = 0; started < total; started += 20) {
    const batch = Array.from({ length: Math.min(20, total - started) }, session);
    statuses.push(...(await Promise.all(batch)));
  }
  expect(statuses.filter((s) => s === "connected")).toHaveLength(total);
  await done;
  expect(collections).toBe(1);
}, 20_000);
