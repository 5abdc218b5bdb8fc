// Socket2Web's own protocol with the handshake in the upgrade URL (`?protocol=…&token=…`).
import { frontEndConformance } from "./conformance.ts";
import type { FrontEndDriver } from "./driver.ts";
import { openStatusSession, upgradeHeaders } from "./sessions.ts";

const driver: FrontEndDriver = {
  variant: "socket2web-url",
  frontend: "socket2web",
  args: async () => [],
  open(proxy, target, options = {}) {
    const query = new URLSearchParams({
      protocol: target.transport,
      target_ip: "127.0.0.1",
      target_port: String(target.port),
      ...(options.credential ? { token: options.credential } : {}),
    });
    return openStatusSession(`${proxy.url}/?${query}`, upgradeHeaders(options), undefined);
  },
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
