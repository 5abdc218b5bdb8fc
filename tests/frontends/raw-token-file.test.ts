// Raw sessions by a --token-file token in `?token=`; such a token only names the target, so the
// credential travels in the Authorization header.
import { join } from "node:path";
import { frontEndConformance } from "./conformance.ts";
import type { FrontEndDriver } from "./driver.ts";
import { openRawSession, RAW_SIGNALS, upgradeHeaders } from "./sessions.ts";

const driver: FrontEndDriver = {
  variant: "raw-token-file",
  frontend: "raw",
  async args({ targets, dir }) {
    const file = join(dir, "raw-tokens");
    const lines = targets
      .filter((target) => target.transport === "tcp")
      .map((target) => `${target.name}: 127.0.0.1:${target.port}\n`);
    await Bun.write(file, lines.join(""));
    return ["--token-file", file];
  },
  open: (proxy, target, options = {}) =>
    openRawSession(`${proxy.url}/?token=${target.name}`, upgradeHeaders(options, true)),
  transports: ["tcp"],
  signals: RAW_SIGNALS,
};

frontEndConformance(driver);
