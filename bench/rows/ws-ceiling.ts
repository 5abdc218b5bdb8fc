// ws-ceiling: a Bun WebSocket server that is itself the target (servers/ws-ceiling.ts).
import { bunScriptRow } from "./bun-script.ts";

export const wsCeiling = bunScriptRow(
  "ws-ceiling",
  "ws-ceiling (Bun WS, no TCP hop)",
  "servers/ws-ceiling.ts",
);
