import { describe, expect, test } from "bun:test";
import { randomBytes, sha256 } from "../helpers/bytes.ts";
import { startForward } from "../helpers/client-cli.ts";
import { useProxyAndEcho } from "../helpers/fixtures.ts";
import { eventually } from "../helpers/streams.ts";

const fixture = useProxyAndEcho();

/** A local TCP client of the forwarder that records what comes back and whether it was closed. */
async function localClient(port: number) {
  const chunks: Uint8Array[] = [];
  let received = 0;
  let closed = false;
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_socket, data) {
        chunks.push(data);
        received += data.byteLength;
      },
      close() {
        closed = true;
      },
      error() {},
    },
  });
  return { socket, chunks, received: () => received, closed: () => closed };
}

describe("socket2web forward", () => {
  test("carries 32 MiB both ways at once through an echo target intact", async () => {
    const forward = await startForward([
      "--server",
      fixture.proxy.url,
      "--target",
      `127.0.0.1:${fixture.echo.port}`,
    ]);
    try {
      const data = randomBytes(32 * 1024 * 1024);
      const client = await localClient(forward.port);
      // Write with Bun's partial-write semantics: keep the rest and retry when the kernel takes more.
      let offset = 0;
      await eventually(
        () => {
          if (offset < data.byteLength)
            offset += Math.max(client.socket.write(data.subarray(offset)), 0);
          return offset === data.byteLength;
        },
        20_000,
        "the whole input written",
      );
      await eventually(() => client.received() >= data.byteLength, 20_000, "the whole echo");
      expect(sha256(Buffer.concat(client.chunks))).toBe(sha256(data));
      client.socket.end();
      const [line] = await forward.waitForLines(/ → 127\.0\.0\.1:\d+: closed 1000/, 1, 5000);
      expect(line).toContain(`${data.byteLength} B sent, ${data.byteLength} B received`);
    } finally {
      await forward.stop();
    }
  }, 30_000);

  test("SIGTERM closes open sessions and exits 0", async () => {
    const forward = await startForward([
      "--server",
      fixture.proxy.url,
      "--target",
      `127.0.0.1:${fixture.echo.port}`,
    ]);
    const client = await localClient(forward.port);
    client.socket.write("ping");
    await eventually(() => client.received() === 4, 5000, "the echo");
    const started = Date.now();
    expect(await forward.stop()).toBe(0);
    expect(Date.now() - started).toBeLessThan(3000);
    await eventually(() => client.closed(), 2000, "the local socket closed");
    expect(forward.output()).toMatch(/closed 1001/);
  }, 30_000);
});
