// socket2web, from source (bun run src/main.ts) and as the compiled binary (dist/socket2web).
import { existsSync } from "node:fs";
import { startListening } from "./listening.ts";
import { BUN, ROOT, type Row } from "./row.ts";

// Overridable to bench another checkout (for example a snapshot of a commit).
export const SOURCE_ENTRY = process.env.BENCH_SOCKET2WEB_ENTRY ?? `${ROOT}src/main.ts`;
export const BINARY = process.env.BENCH_SOCKET2WEB_BIN ?? `${ROOT}dist/socket2web`;

export function socket2webArgs(port: number): string[] {
  return [
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--max-connections",
    "20000",
    "--log-level",
    "warn",
  ];
}

/** How the load client starts its sessions on a socket2web row. */
type SessionForm = "greeting" | "url" | "route";

/** Raw sessions (`--route`) go to this path; the row's target is given when it starts. */
const ROUTE_PATH = "/raw";

function socket2webRow(
  id: string,
  label: string,
  command: () => string[],
  exists: () => string | null,
  form: SessionForm = "greeting",
): Row {
  return {
    id,
    label,
    // The other forms differ from the greeting only in how a session starts: compared at the
    // smallest count, where set-up is what is measured, to keep within the run's time budget.
    ...(form === "greeting" ? {} : { sessionsOnly: true, maxSessions: 1_000 }),
    unavailable: exists,
    async start(ctx) {
      const route =
        form === "route" ? ["--route", `${ROUTE_PATH}=${ctx.targetHost}:${ctx.targetPort}`] : [];
      const { proc, port } = await startListening(
        id,
        (p) => [...command(), ...socket2webArgs(p), ...route],
        { readyText: "listening on", cwd: ROOT },
      );
      const url = `ws://127.0.0.1:${port}/`;
      const target = { targetHost: ctx.targetHost, targetPort: ctx.targetPort };
      return {
        endpoint:
          form === "route"
            ? { dialect: "ws-raw", url: `ws://127.0.0.1:${port}${ROUTE_PATH}` }
            : { dialect: form === "url" ? "s2w-url" : "s2w", url, ...target },
        pid: proc.pid,
        stop: () => proc.stop(),
      };
    },
  };
}

export const socket2webSource = socket2webRow(
  "socket2web",
  "socket2web (source)",
  () => [BUN, "run", SOURCE_ENTRY],
  () => (existsSync(SOURCE_ENTRY) ? null : "src/main.ts does not exist yet"),
);

export const socket2webBinary = socket2webRow(
  "socket2web-bin",
  "socket2web (binary)",
  () => [BINARY],
  () => (existsSync(BINARY) ? null : "dist/socket2web not built (make build failed?)"),
);

/** The same source, its sessions started with the handshake in the URL (one round trip less). */
export const socket2webUrlForm = socket2webRow(
  "socket2web-url",
  "socket2web (URL form)",
  () => [BUN, "run", SOURCE_ENTRY],
  () => (existsSync(SOURCE_ENTRY) ? null : "src/main.ts does not exist yet"),
  "url",
);

/** The same source, raw sessions on a --route (websockify's way: no handshake at all). */
export const socket2webRoute = socket2webRow(
  "socket2web-route",
  "socket2web (raw, --route)",
  () => [BUN, "run", SOURCE_ENTRY],
  () => (existsSync(SOURCE_ENTRY) ? null : "src/main.ts does not exist yet"),
  "route",
);
