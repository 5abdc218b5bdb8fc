// lean relay: the leanest Bun WebSocket→TCP relay for the Socket2Web protocol
// (profile/lean-relay.ts: Bun.serve + Bun.connect, no policy, no logging, no timers). The
// yardstick for socket2web's own cost: what any Bun relay pays.
import { bunScriptRow } from "./bun-script.ts";

export const leanRelay = bunScriptRow(
  "lean-relay",
  "lean relay (Bun, yardstick)",
  "profile/lean-relay.ts",
);
