// Wisp under --wisp PREFIX: one Wisp 2 connection per session, carrying one stream; a credential
// goes in the password extension.
import { WispClose } from "../../src/protocol/wisp-close.ts";
import { frontEndConformance } from "./conformance.ts";
import type { FrontEndDriver } from "./driver.ts";
import { openWispSession, upgradeHeaders } from "./sessions.ts";

const driver: FrontEndDriver = {
  variant: "wisp",
  frontend: "wisp",
  args: async () => ["--wisp", "/wisp/"],
  open: (proxy, target, options = {}) =>
    openWispSession(
      `${proxy.url}/wisp/`,
      upgradeHeaders(options),
      { host: "127.0.0.1", port: target.port, transport: target.transport },
      options.credential,
    ),
  transports: ["tcp", "udp"],
  signals: {
    forbidden: { wisp: WispClose.blocked },
    // CLOSE 0xc2 (missing) or 0xc0 (wrong) on stream 0, then the WebSocket closes with 4401.
    unauthorized: { close: 4401 },
    idle: { wisp: WispClose.transferTimeout },
    targetEnded: { wisp: WispClose.voluntary },
    tooBig: { wisp: WispClose.invalid },
  },
  // The connection takes a token, and so does each stream.
  rateTokensPerSession: 2,
};

frontEndConformance(driver);
