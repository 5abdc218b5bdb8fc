// Wisp through the unmodified wisp-js client (Wisp 2, a credential in its password extension):
// the same front end as wisp.test.ts, seen by the client browsers use. wisp-js sets no upgrade
// headers and reports no close code, so the driver reads the code off its WebSocket.
import { client, extensions } from "@mercuryworkshop/wisp-js/client";
import { WispClose } from "../../src/protocol/wisp-close.ts";
import { openStream } from "../wisp/wisp-client.ts";
import { frontEndConformance } from "./conformance.ts";
import type { FrontEndDriver, FrontEndSession, Outcome } from "./driver.ts";

async function openWispJs(
  url: string,
  target: { port: number; transport: "tcp" | "udp" },
  credential: string | undefined,
): Promise<Outcome> {
  const connection = new client.ClientConnection(url, {
    wisp_extensions: [
      new extensions.UDPExtension({ client_config: {} }),
      ...(credential
        ? [
            new extensions.PasswordAuthExtension({
              client_config: { username: "", password: credential },
            }),
          ]
        : []),
    ],
  });
  // wisp-js drops the close event; keep its code before wisp-js ends the streams with 0x03.
  let closeCode: number | undefined;
  const connectionClosed = Promise.withResolvers<{ close: number }>();
  const ws = connection.ws as unknown as { onclose: (event: { code: number }) => void };
  const ownClose = ws.onclose;
  ws.onclose = (event) => {
    closeCode = event.code;
    connectionClosed.resolve({ close: event.code });
    ownClose.call(ws, event);
  };
  const opened = await new Promise<boolean>((resolve) => {
    connection.onopen = () => resolve(true);
    connection.onclose = () => resolve(false);
    connection.onerror = () => resolve(false);
  });
  if (!opened) return { opened: false, signal: { close: closeCode ?? 1006 } };
  const open = openStream(connection, "127.0.0.1", target.port, target.transport);
  let taken = 0;
  const session: FrontEndSession = {
    send: (data) => open.stream.send(data),
    async read(count, timeoutMs = 10_000) {
      await open.received(taken + count, timeoutMs);
      const bytes = Buffer.concat(open.chunks).subarray(taken, taken + count);
      taken += count;
      return new Uint8Array(bytes);
    },
    close() {
      open.stream.close(WispClose.voluntary);
      connection.close();
    },
    // A stream the client closed gets no onclose from wisp-js: the connection's close ends it.
    closed: Promise.race([
      open.closed.then((reason) =>
        closeCode === undefined ? { wisp: reason } : { close: closeCode },
      ),
      connectionClosed.promise,
    ]),
  };
  return { opened: true, session };
}

const driver: FrontEndDriver = {
  variant: "wisp-js",
  frontend: "wisp",
  args: async () => ["--wisp", "/wisp/"],
  open: (proxy, target, options = {}) => {
    if (options.origin) throw new Error("wisp-js cannot send an Origin header");
    return openWispJs(`${proxy.url}/wisp/`, target, options.credential);
  },
  transports: ["tcp", "udp"],
  signals: {
    forbidden: { wisp: WispClose.blocked },
    unauthorized: { close: 4401 },
    idle: { wisp: WispClose.transferTimeout },
    targetEnded: { wisp: WispClose.voluntary },
    tooBig: { wisp: WispClose.invalid },
  },
  rateTokensPerSession: 2,
  cannot: { origin: "wisp-js opens its WebSocket without upgrade headers" },
};

frontEndConformance(driver);
