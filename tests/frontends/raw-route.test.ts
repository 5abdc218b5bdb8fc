// Raw sessions by --route PATH=HOST:PORT (websockify style); a credential rides in `?token=`.
import { frontEndConformance } from "./conformance.ts";
import type { FrontEndDriver } from "./driver.ts";
import { openRawSession, RAW_SIGNALS, upgradeHeaders } from "./sessions.ts";

const driver: FrontEndDriver = {
  variant: "raw-route",
  frontend: "raw",
  args: async ({ targets }) =>
    targets
      .filter((target) => target.transport === "tcp")
      .flatMap((target) => ["--route", `/${target.name}=127.0.0.1:${target.port}`]),
  open: (proxy, target, options = {}) =>
    openRawSession(
      `${proxy.url}/${target.name}${options.credential ? `?token=${options.credential}` : ""}`,
      upgradeHeaders(options),
    ),
  transports: ["tcp"],
  signals: RAW_SIGNALS,
};

frontEndConformance(driver);
