import { afterEach, expect, test } from "bun:test";
import type { ServerWebSocket } from "bun";
import { decodePacket, encodeClose, encodeContinue, type Packet } from "../../wisp/packet.ts";
import { MAX_SEND_BYTES, WispMux } from "./wisp-mux.ts";

/** A scripted Wisp 1 server on loopback: grants `credit` on stream 0 and records every packet. */
function wispServer(credit: number) {
  const packets: Packet[] = [];
  let socket: ServerWebSocket<unknown> | undefined;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request, srv) =>
      srv.upgrade(request) ? undefined : new Response("no", { status: 400 }),
    websocket: {
      open(ws) {
        socket = ws;
        ws.send(encodeContinue(0, credit));
      },
      message(_ws, message) {
        packets.push(decodePacket(new Uint8Array(message as Buffer)));
      },
    },
  });
  return {
    url: new URL(`ws://127.0.0.1:${server.port}/wisp/`),
    packets,
    send: (bytes: Uint8Array) => socket?.send(bytes),
    stop: () => server.stop(true),
  };
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

test("DATA keeps to the credit: stream 0's to begin with, then each CONTINUE's value", async () => {
  const server = wispServer(2);
  const mux = new WispMux({
    url: server.url,
    webSocket: (url) => new WebSocket(url),
    connectTimeoutMs: 5000,
    pingIntervalMs: 60_000,
    report: () => {},
  });
  cleanups.push(
    () => mux.stop(),
    () => server.stop(),
  );
  let writable = 0;
  let closedWith: number | undefined;
  let opened = false;
  const stream = mux.open("localhost", 8080, {
    opened: () => {
      opened = true;
    },
    data: () => {},
    writable: () => writable++,
    closed: (reason) => {
      closedWith = reason;
    },
  });
  await until(() => opened, "the stream to open");
  const chunk = new Uint8Array(MAX_SEND_BYTES * 5);
  expect(stream.send(chunk)).toBe(false);
  const data = () => server.packets.filter((packet) => packet.type === "data").length;
  await until(() => data() === 2, "two DATA packets");
  expect(server.packets[0]).toMatchObject({ type: "connect", host: "localhost", port: 8080 });
  server.send(encodeContinue(stream.id, 3));
  await until(() => data() === 5, "the three more the CONTINUE allowed");
  await until(() => writable === 1, "writable");
  expect(data()).toBe(5);
  server.send(encodeClose(stream.id, 0x44));
  await until(() => closedWith !== undefined, "the CLOSE");
  expect(closedWith).toBe(0x44);
});
