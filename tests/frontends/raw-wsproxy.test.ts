// wsproxy under the Wisp prefix: PREFIX[CREDENTIAL/]HOST:PORT, raw bytes both ways.
import { frontEndConformance } from "./conformance.ts";
import type { FrontEndDriver } from "./driver.ts";
import { openRawSession, upgradeHeaders } from "./sessions.ts";

const driver: FrontEndDriver = {
  variant: "raw-wsproxy",
  frontend: "raw",
  args: async () => ["--wisp", "/wisp/"],
  open: (proxy, target, options = {}) =>
    openRawSession(
      `${proxy.url}/wisp/${options.credential ? `${options.credential}/` : ""}127.0.0.1:${target.port}`,
      upgradeHeaders(options),
    ),
  transports: ["tcp"],
  signals: {
    // The target is checked by the session after the upgrade, as a handshake's would be.
    forbidden: { close: 4403 },
    unauthorized: { http: 401 },
    idle: { close: 4001 },
    targetEnded: { close: 1000 },
  },
};

frontEndConformance(driver);
