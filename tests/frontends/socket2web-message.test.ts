// Socket2Web's own protocol: greeting, then the handshake message (credential in its `token`).
import { frontEndConformance } from "./conformance.ts";
import type { FrontEndDriver } from "./driver.ts";
import { openStatusSession, upgradeHeaders } from "./sessions.ts";

const driver: FrontEndDriver = {
  variant: "socket2web-message",
  frontend: "socket2web",
  args: async () => [],
  open: (proxy, target, options = {}) =>
    openStatusSession(`${proxy.url}/`, upgradeHeaders(options), {
      protocol: target.transport,
      target_ip: "127.0.0.1",
      target_port: target.port,
      ...(options.credential ? { token: options.credential } : {}),
    }),
  transports: ["tcp", "udp"],
  signals: {
    forbidden: { close: 4403 },
    unauthorized: { close: 4401 },
    idle: { close: 4001 },
    targetEnded: { close: 1000 },
    tooBig: { close: 1009 },
  },
};

frontEndConformance(driver);
