import { expect, test } from "bun:test";
import { DataEncoder, decodePacket } from "./packet.ts";

// DataEncoder reuses one buffer, which is right only if Bun's WebSocket is done with a packet when
// sendBinary returns: written, or copied into its queue. Many packets sent in one go, most of them
// queued behind backpressure, must each arrive as they were when sent.
test("packets from the reused buffer arrive intact, queued ones included", async () => {
  const encoder = new DataEncoder();
  const count = 200;
  const size = 60 * 1024;
  let queued = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request, srv) =>
      srv.upgrade(request) ? undefined : new Response("no", { status: 400 }),
    websocket: {
      open(ws) {
        for (let i = 1; i <= count; i++) {
          const payload = new Uint8Array(size).fill(i % 256);
          if (ws.sendBinary(encoder.encode(i, payload)) < 0) queued++;
        }
      },
      message() {},
    },
  });
  try {
    const client = new WebSocket(`ws://127.0.0.1:${server.port}/`);
    client.binaryType = "arraybuffer";
    const wrong: string[] = [];
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      client.onerror = () => reject(new Error("client error"));
      client.onmessage = (event) => {
        const packet = decodePacket(new Uint8Array(event.data as ArrayBuffer));
        received++;
        if (packet.type !== "data" || packet.streamId !== received) {
          wrong.push(`message ${received}: ${packet.type} on ${packet.streamId}`);
        } else if (
          packet.payload.byteLength !== size ||
          packet.payload.some((b) => b !== received % 256)
        ) {
          wrong.push(`message ${received}: payload changed after its send`);
        }
        if (received === count) resolve();
      };
    });
    client.close();
    expect(queued).toBeGreaterThan(0);
    expect(wrong).toEqual([]);
  } finally {
    server.stop(true);
  }
});

test("a payload above the scratch bound gets a buffer of its own", () => {
  const encoder = new DataEncoder();
  const big = encoder.encode(1, new Uint8Array(2 * 1024 * 1024).fill(1));
  const small = encoder.encode(2, new Uint8Array(10).fill(2));
  expect(decodePacket(big)).toMatchObject({ type: "data", streamId: 1 });
  expect((decodePacket(big) as { payload: Uint8Array }).payload.every((b) => b === 1)).toBe(true);
  expect(big.buffer).not.toBe(small.buffer);
});
