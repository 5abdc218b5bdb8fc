// The client side of each kind of front end, as FrontEndSession and Outcome: a WebSocket that
// carries the session's bytes itself (Socket2Web's protocol, raw sessions, wsproxy), and a Wisp
// connection with one stream.
import { ExtensionId, encodePasswordPayload } from "../../src/wisp/extensions.ts";
import {
  encodeClose,
  encodeConnect,
  encodeData,
  encodeInfo,
  StreamType,
} from "../../src/wisp/packet.ts";
import {
  type ClientOptions,
  openClient,
  refusedUpgradeStatus,
  type TestClient,
} from "../helpers/ws-client.ts";
import { openRawWisp, type RawWisp } from "../wisp/raw-wisp.ts";
import type { FrontEndSession, OpenOptions, Outcome, Transport } from "./driver.ts";

/** Upgrade headers for these options; `credentialHeader` sends the credential as a Bearer. */
export function upgradeHeaders(
  options: OpenOptions,
  credentialHeader = false,
): Record<string, string> {
  return {
    ...(options.origin ? { origin: options.origin } : {}),
    ...(credentialHeader && options.credential
      ? { authorization: `Bearer ${options.credential}` }
      : {}),
  };
}

/** A WebSocket whose binary frames are the session's bytes, both ways. */
export function webSocketSession(client: TestClient): FrontEndSession {
  return {
    send: (data) => client.send(data),
    read: (count, timeoutMs = 10_000) => client.readBytes(count, timeoutMs),
    close: () => client.close(1000),
    closed: client.closed.then(({ code }) => ({ close: code })),
  };
}

/** Opens a WebSocket; a refused upgrade is the refusal's HTTP status. */
export async function openWebSocket(
  url: string,
  headers: Record<string, string>,
  protocols?: string[],
): Promise<{ client: TestClient } | { http: number }> {
  const options: ClientOptions = { headers };
  try {
    return { client: await openClient(url, protocols, options) };
  } catch (error) {
    const status = refusedUpgradeStatus(error);
    if (status === undefined) throw error;
    return { http: status };
  }
}

/**
 * A session whose bytes flow from the upgrade on (raw sessions, wsproxy): a 1013 or any other
 * close after the upgrade shows in `closed`.
 */
export async function openRawSession(
  url: string,
  headers: Record<string, string>,
  protocols?: string[],
): Promise<Outcome> {
  const opened = await openWebSocket(url, headers, protocols);
  if ("http" in opened) return { opened: false, signal: opened };
  return { opened: true, session: webSocketSession(opened.client) };
}

/**
 * Socket2Web's own protocol after the upgrade: `handshake` sends the handshake message (or
 * nothing for the URL form), then the status decides. A close instead of the first frame (1013)
 * or after an error status is the refusal.
 */
export async function openStatusSession(
  url: string,
  headers: Record<string, string>,
  handshake: Record<string, unknown> | undefined,
): Promise<Outcome> {
  const opened = await openWebSocket(url, headers);
  if ("http" in opened) return { opened: false, signal: opened };
  const { client } = opened;
  const refused = async (): Promise<Outcome> => ({
    opened: false,
    signal: { close: (await client.closed).code },
  });
  try {
    if (handshake) {
      await client.nextJson();
      client.send(JSON.stringify(handshake));
    }
    const status = await client.nextJson();
    if (status.status !== "connected") return refused();
  } catch (error) {
    if (!String(error).includes("closed")) throw error;
    return refused();
  }
  return { opened: true, session: webSocketSession(client) };
}

/** The one stream a Wisp session opens. */
const STREAM = 1;
/** Our INFO offers UDP, as wisp-js does, so that udp streams are allowed. */
const UDP_EXTENSION = { id: ExtensionId.udp, payload: new Uint8Array(0) };

/**
 * A Wisp 2 connection (the subprotocol wisp-js offers) carrying one stream to `host:port`. The
 * client answers the server's INFO with its own, with the password extension when a credential
 * is given; the stream is opened once the server's CONTINUE on stream 0 came. A connection
 * refused before that (1013, 4401) is the refusal; a refused stream shows as its CLOSE reason.
 */
export async function openWispSession(
  url: string,
  headers: Record<string, string>,
  target: { host: string; port: number; transport: Transport },
  credential: string | undefined,
  /** The password extension's user name. */
  username = "",
): Promise<Outcome> {
  let peer: RawWisp;
  try {
    peer = await openRawWisp(url, ["wisp-v2"], headers);
  } catch (error) {
    const status = refusedUpgradeStatus(error);
    if (status === undefined) throw error;
    return { opened: false, signal: { http: status } };
  }
  const refused = async (): Promise<Outcome> => ({
    opened: false,
    signal: { close: (await peer.closed).code },
  });
  try {
    await peer.next((packet) => packet.type === "info");
    const extensions = credential
      ? [
          UDP_EXTENSION,
          {
            id: ExtensionId.passwordAuth,
            payload: encodePasswordPayload({ username, password: credential }),
          },
        ]
      : [UDP_EXTENSION];
    peer.send(encodeInfo(2, 0, extensions));
    await peer.next((packet) => packet.type === "continue" && packet.streamId === 0);
  } catch (error) {
    if (!String(error).includes("closed")) throw error;
    return refused();
  }
  peer.send(
    encodeConnect(
      STREAM,
      target.transport === "udp" ? StreamType.udp : StreamType.tcp,
      target.port,
      target.host,
    ),
  );
  return { opened: true, session: wispStreamSession(peer) };
}

function wispStreamSession(peer: RawWisp): FrontEndSession {
  let taken = 0;
  const streamClose = peer
    .next((packet) => packet.type === "close" && packet.streamId === STREAM, 3_600_000)
    .then(
      (packet) => ({ wisp: (packet as { reason: number }).reason }),
      () => undefined,
    );
  const connectionClose = peer.closed.then(({ code }) => ({ close: code }));
  return {
    send: (data) => peer.send(encodeData(STREAM, data)),
    async read(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const bytes = Buffer.concat(
          peer.packets.flatMap((packet) =>
            packet.type === "data" && packet.streamId === STREAM ? [packet.payload] : [],
          ),
        );
        if (bytes.byteLength >= taken + count) {
          const out = bytes.subarray(taken, taken + count);
          taken += count;
          return new Uint8Array(out);
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`wisp stream: timed out waiting for ${count} bytes`);
        // Wakes on the next packet (rejects on the close); the bytes are re-read from the start.
        const seen = peer.packets.length;
        await peer.next((packet) => peer.packets.indexOf(packet) >= seen, left);
      }
    },
    close() {
      peer.send(encodeClose(STREAM, 0x02));
      peer.close();
    },
    // A CLOSE for the stream says how it ended; without one, the connection's close code. The
    // stream's wait settles once the connection has closed, so both are known by then.
    closed: new Promise((resolve) => {
      void streamClose.then((signal) => signal && resolve(signal));
      void connectionClose.then(async (signal) => resolve((await streamClose) ?? signal));
    }),
  };
}

/** How raw sessions (routes, token files, tickets) show: every refusal is an HTTP status. */
export const RAW_SIGNALS = {
  forbidden: { http: 403 },
  unauthorized: { http: 401 },
  idle: { close: 4001 },
  targetEnded: { close: 1000 },
} as const;
