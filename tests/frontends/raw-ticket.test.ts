// Raw sessions by a ticket in `?token=` whose host and port claims name the target: the ticket
// is both the route and the credential, so tickets are configured in every configuration.
import { frontEndConformance, mintTicket, ticketSecretFile } from "./conformance.ts";
import type { FrontEndDriver } from "./driver.ts";
import { openRawSession, RAW_SIGNALS, upgradeHeaders } from "./sessions.ts";

const hostAndPort = (target: { port: number }) => ({ host: "127.0.0.1", port: target.port });

const driver: FrontEndDriver = {
  variant: "raw-ticket",
  frontend: "raw",
  args: async ({ dir }) => ["--ticket-secret-file", await ticketSecretFile(dir)],
  async open(proxy, target, options = {}) {
    const ticket = options.credential ?? (await mintTicket(hostAndPort(target)));
    return openRawSession(`${proxy.url}/?token=${ticket}`, upgradeHeaders(options));
  },
  transports: ["tcp"],
  signals: RAW_SIGNALS,
  ticketClaims: hostAndPort,
  cannot: {
    missing: "without a ticket in ?token= the upgrade is not a raw session at all",
    staticToken: "a static token names no target; only a ticket can route this front end",
  },
};

frontEndConformance(driver);
