import { afterAll, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { createConsola, LogLevels } from "consola";
import { defaultServerConfig } from "../config/defaults.ts";
import { mapResolver } from "../net/resolver.ts";

const DEFAULT_CONFIG = await defaultServerConfig();

import { startServer } from "./server.ts";

// A peer that floods upgrades and never answers a close: Bun keeps each refused socket for up to
// 16 s, so refusals after the upgrade must themselves be bounded, or the process runs out of
// descriptors (and Bun's accept loop spins on EMFILE).

const MAX = 3;
const server = startServer(
  { ...DEFAULT_CONFIG, port: 0, maxConnections: MAX },
  { logger: createConsola({ level: LogLevels.silent }), resolver: mapResolver({}) },
);
const sockets: Socket[] = [];
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await server.shutdown(0);
});

/** An upgrade from a client that reads the answer's status line and never closes. */
function upgrade(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port: server.port, host: "127.0.0.1", allowHalfOpen: true }, () =>
      socket.write(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
      ),
    );
    sockets.push(socket);
    socket.once("data", (chunk: Buffer) => resolve(Number(chunk.toString("latin1").split(" ")[1])));
    socket.on("error", reject);
  });
}

test("refused upgrades still closing are bounded; past the bound, refusals cost no socket", async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 4 * MAX; i++) statuses.push(await upgrade());
  // MAX sessions, then MAX refusals after the upgrade (1013), then HTTP 503 with Connection: close.
  expect(statuses.slice(0, 2 * MAX)).toEqual(Array(2 * MAX).fill(101));
  expect(statuses.slice(2 * MAX)).toEqual(Array(2 * MAX).fill(503));
  expect(server.sessions.size).toBe(MAX);
  // The server ends an HTTP refusal's connection itself.
  await new Promise((ended) => sockets.at(-1)?.once("end", ended));
});
