// Protocol edge cases by hand-built packets.
import { afterAll, describe, expect, test } from "bun:test";
import { WispClose } from "../../src/protocol/wisp-close.ts";
import { WISP_CREDIT } from "../../src/wisp/credit.ts";
import { encodePasswordPayload } from "../../src/wisp/extensions.ts";
import {
  encodeClose,
  encodeConnect,
  encodeData,
  encodeInfo,
  HEADER_BYTES,
  readExtensions,
} from "../../src/wisp/packet.ts";
import { startTcpTarget } from "../helpers/targets.ts";
import { upgradeAnswer } from "../helpers/upgrade-answer.ts";
import { startWispHost } from "./host.ts";
import { dataBytes, isClose, openRawWisp } from "./raw-wisp.ts";

const echo = startTcpTarget("echo");
const host = startWispHost();
const text = new TextEncoder();

afterAll(() => {
  host.stop();
  echo.stop();
});

/** Opens stream `id` to the echo target and proves it works. */
async function echoThrough(peer: Awaited<ReturnType<typeof openRawWisp>>, id: number) {
  peer.send(encodeConnect(id, 1, echo.port, "127.0.0.1"));
  peer.send(encodeData(id, text.encode("ping")));
  await peer.next((p) => p.type === "data" && p.streamId === id);
}

describe("Wisp handshake on the wire", () => {
  test("Wisp 2 (a subprotocol offered): INFO first, then CONTINUE on stream 0", async () => {
    const peer = await openRawWisp(host.url, ["wisp-v2"]);
    await peer.next((p) => p.type === "continue");
    expect(peer.packets[0]).toEqual({
      type: "info",
      streamId: 0,
      major: 2,
      minor: 0,
      extensionBytes: new Uint8Array(0),
    });
    expect(peer.packets[1]).toEqual({
      type: "continue",
      streamId: 0,
      bufferRemaining: WISP_CREDIT.initial,
    });
    peer.close();
  });

  test("Wisp 1 (no subprotocol): CONTINUE only", async () => {
    const peer = await openRawWisp(host.url);
    await peer.next((p) => p.type === "continue");
    expect(peer.packets).toEqual([
      { type: "continue", streamId: 0, bufferRemaining: WISP_CREDIT.initial },
    ]);
    // A Wisp 1 client goes straight to streams.
    await echoThrough(peer, 1);
    peer.close();
  });

  test("data pipelined behind a CONNECT reaches the target once it opens", async () => {
    const peer = await openRawWisp(host.url);
    peer.send(encodeConnect(4, 1, echo.port, "localhost"));
    for (let i = 0; i < 10; i++) peer.send(encodeData(4, new Uint8Array(1000).fill(i)));
    await peer.next(() => dataBytes(peer.packets, 4) >= 10_000);
    expect(dataBytes(peer.packets, 4)).toBe(10_000);
    peer.close();
  });
});

describe("bad packets close one stream with 0x41, or the WebSocket when framing breaks", () => {
  test("an unknown packet type on a stream", async () => {
    const peer = await openRawWisp(host.url);
    await echoThrough(peer, 1);
    const unknown = new Uint8Array(HEADER_BYTES + 2);
    unknown.set([0x07, 5, 0, 0, 0, 1, 2]);
    peer.send(unknown);
    expect(await peer.next(isClose(5))).toEqual({
      type: "close",
      streamId: 5,
      reason: WispClose.invalid,
    });
    await echoThrough(peer, 6);
    peer.close();
  });

  test("DATA for a stream that was never opened", async () => {
    const peer = await openRawWisp(host.url);
    peer.send(encodeData(9, text.encode("nobody")));
    expect(await peer.next(isClose(9))).toMatchObject({ reason: WispClose.invalid });
    await echoThrough(peer, 10);
    peer.close();
  });

  test("DATA for a stream the client just closed is dropped quietly", async () => {
    const peer = await openRawWisp(host.url);
    await echoThrough(peer, 2);
    peer.send(encodeClose(2, WispClose.voluntary));
    peer.send(encodeData(2, text.encode("late")));
    await echoThrough(peer, 3);
    expect(peer.packets.filter(isClose(2))).toEqual([]);
    peer.close();
  });

  test("a duplicate stream id ends the stream it named", async () => {
    const peer = await openRawWisp(host.url);
    const before = echo.received.length;
    await echoThrough(peer, 3);
    peer.send(encodeConnect(3, 1, echo.port, "127.0.0.1"));
    expect(await peer.next(isClose(3))).toMatchObject({ reason: WispClose.invalid });
    // The target connection of the first stream 3 ends too, and no second one is made.
    await echo.closedConnections(before + 1);
    expect(echo.received.length).toBe(before + 1);
    await echoThrough(peer, 4);
    peer.close();
  });

  test.each([
    ["a CONNECT cut short", Uint8Array.of(1, 7, 0, 0, 0, 1, 80)],
    ["a CONNECT to port 0", encodeConnect(7, 1, 0, "127.0.0.1")],
    ["a CONNECT with a bad address", encodeConnect(7, 1, 80, "999.1.1.1")],
    ["a CONNECT of an unknown stream type", encodeConnect(7, 9, 80, "127.0.0.1")],
    ["a UDP CONNECT where UDP is not offered", encodeConnect(7, 2, 53, "127.0.0.1")],
    ["a CLOSE without its reason", Uint8Array.of(4, 7, 0, 0, 0)],
    ["a CONTINUE cut short", Uint8Array.of(3, 7, 0, 0, 0, 1)],
  ])("%s", async (_, packet) => {
    const peer = await openRawWisp(host.url);
    peer.send(packet);
    expect(await peer.next(isClose(7))).toMatchObject({ reason: WispClose.invalid });
    await echoThrough(peer, 8);
    peer.close();
  });

  test("a packet shorter than the header closes the WebSocket with 1002, saying why", async () => {
    const peer = await openRawWisp(host.url);
    peer.send(Uint8Array.of(2, 1, 0));
    expect(await peer.closed).toEqual({
      code: 1002,
      reason: "wisp: packet of 3 bytes is shorter than the 5-byte header",
    });
  });

  test("a text frame closes the WebSocket with 1003", async () => {
    const peer = await openRawWisp(host.url);
    peer.send("hello");
    expect((await peer.closed).code).toBe(1003);
  });

  test("a CONNECT on stream 0 closes the WebSocket with 1002", async () => {
    const peer = await openRawWisp(host.url);
    peer.send(encodeConnect(0, 1, echo.port, "127.0.0.1"));
    expect(await peer.closed).toMatchObject({ code: 1002 });
  });

  // Stream 0 is the connection's own (the spec reserves it for the handshake): a malformed packet
  // there ends the connection, CLOSE 0x41 on stream 0 first, as the spec ends a connection.
  test.each([
    ["a CONNECT cut short", Uint8Array.of(1, 0, 0, 0, 0, 1, 80), "CONNECT payload"],
    ["a CONNECT whose host is not UTF-8", Uint8Array.of(1, 0, 0, 0, 0, 1, 80, 0, 0xff), "UTF-8"],
    ["a CLOSE without its reason", Uint8Array.of(4, 0, 0, 0, 0), "CLOSE payload"],
    ["a CLOSE with too long a payload", Uint8Array.of(4, 0, 0, 0, 0, 2, 2), "CLOSE payload"],
    ["a CONTINUE cut short", Uint8Array.of(3, 0, 0, 0, 0, 1), "CONTINUE payload"],
    ["an INFO cut short", Uint8Array.of(5, 0, 0, 0, 0, 2), "INFO payload"],
    ["an unknown packet type", Uint8Array.of(7, 0, 0, 0, 0, 1, 2), "unknown packet type 0x07"],
    ["DATA", encodeData(0, text.encode("stream zero")), "DATA on stream 0"],
  ])("on stream 0, %s: CLOSE 0x41 on stream 0, then 1002", async (_, packet, why) => {
    const peer = await openRawWisp(host.url, ["wisp-v2"]);
    await peer.next((p) => p.type === "continue");
    peer.send(packet);
    expect(await peer.next(isClose(0))).toMatchObject({ reason: WispClose.invalid });
    const closed = await peer.closed;
    expect(closed.code).toBe(1002);
    expect(closed.reason).toContain(why);
  });
});

describe("Wisp 2 password authentication", () => {
  const guarded = startWispHost({ password: "token-1", infoTimeoutMs: 300 });
  afterAll(() => guarded.stop());

  test("the INFO requires it; the spec's layout is accepted, then CONTINUE", async () => {
    const peer = await openRawWisp(guarded.url, ["wisp-v2"]);
    const info = await peer.next((p) => p.type === "info");
    const offered = readExtensions((info as { extensionBytes: Uint8Array }).extensionBytes);
    expect(offered).toEqual([{ id: 2, payload: Uint8Array.of(1) }]);
    expect(peer.packets.some((p) => p.type === "continue")).toBe(false);
    const payload = encodePasswordPayload({ username: "", password: "token-1" });
    peer.send(encodeInfo(2, 0, [{ id: 2, payload }]));
    await peer.next((p) => p.type === "continue");
    await echoThrough(peer, 1);
    peer.close();
  });

  test.each([
    [
      "a CONNECT before the INFO",
      encodeConnect(1, 1, 80, "127.0.0.1"),
      WispClose.authMissingCredentials,
    ],
    ["an INFO without the extension", encodeInfo(2, 0, []), WispClose.authMissingCredentials],
    [
      "a wrong password",
      encodeInfo(2, 0, [
        { id: 2, payload: encodePasswordPayload({ username: "", password: "x" }) },
      ]),
      WispClose.authBadPassword,
    ],
  ])("%s: CLOSE on stream 0, then 4401", async (_, packet, reason) => {
    const peer = await openRawWisp(guarded.url, ["wisp-v2"]);
    await peer.next((p) => p.type === "info");
    peer.send(packet);
    expect(await peer.next(isClose(0))).toMatchObject({ reason });
    expect((await peer.closed).code).toBe(4401);
  });

  test("no INFO in time: CLOSE 0xc2 on stream 0, then 4401", async () => {
    const peer = await openRawWisp(guarded.url, ["wisp-v2"]);
    expect(await peer.next(isClose(0))).toMatchObject({ reason: WispClose.authMissingCredentials });
    expect((await peer.closed).code).toBe(4401);
  });

  test("a Wisp 1 client cannot bring a password: refused before the upgrade with 401", async () => {
    const answer = await upgradeAnswer(guarded.port, "/wisp/");
    expect(answer.status).toBe(401);
    expect(answer.headers["www-authenticate"]).toBe('Bearer realm="socket2web"');
    expect(answer.body).toBe("401 Unauthorized: a valid credential is required: none was given\n");
  });
});
