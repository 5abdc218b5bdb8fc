import { expect, test } from "bun:test";
import fc from "fast-check";
import { useProxyAndEcho } from "../helpers/fixtures.ts";
import { connectThrough } from "../helpers/ws-client.ts";

const fixture = useProxyAndEcho();

const frame = fc.record({
  size: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 65, max: 200_000 })),
  text: fc.boolean(),
  pauseMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 })),
});

test("property: any sequence of binary and text frames, sizes and pauses comes back byte for byte", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(frame, { minLength: 1, maxLength: 40 }),
      fc.integer(),
      async (frames, seed) => {
        const { client, status } = await connectThrough(fixture.proxy.url, {
          protocol: "tcp",
          target_ip: "127.0.0.1",
          target_port: fixture.echo.port,
        });
        expect(status.status).toBe("connected");
        const sent: Uint8Array[] = [];
        let state = seed >>> 0;
        const next = () => {
          state = (state * 1103515245 + 12345) >>> 0;
          return state >>> 24;
        };
        for (const { size, text, pauseMs } of frames) {
          if (text) {
            const string = Array.from({ length: size }, () =>
              String.fromCharCode(32 + (next() % 95)),
            ).join("");
            client.send(string);
            sent.push(new TextEncoder().encode(string));
          } else {
            const bytes = Uint8Array.from({ length: size }, next);
            client.send(bytes);
            sent.push(bytes);
          }
          if (pauseMs) await Bun.sleep(pauseMs);
        }
        const expected = Buffer.concat(sent);
        const received = await client.readBytes(expected.byteLength, 10_000);
        expect(Buffer.compare(Buffer.from(received), expected)).toBe(0);
        client.close();
      },
    ),
    { numRuns: 25 },
  );
}, 60_000);
