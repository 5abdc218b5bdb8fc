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

/**
 * How the load client starts its sessions on a socket2web row: `tls` is the greeting form asking
 * for the tls adapter, to the same target behind TLS.
 */
type SessionForm = "greeting" | "url" | "route" | "tls";

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
    ...(form === "greeting" || form === "tls"
      ? {}
      : {
          sessionsOnly: true,
          maxSessions: {
            count: 1_000,
            why: "by choice: measured at 1,000 only (set-up by how a session starts; same relay as socket2web)",
          },
        }),
    unavailable: exists,
    async start(ctx) {
      const extra =
        form === "route"
          ? ["--route", `${ROUTE_PATH}=${ctx.targetHost}:${ctx.targetPort}`]
          : form === "tls"
            ? ["--tls-target-ca", ctx.targetCaFile]
            : [];
      const { proc, port } = await startListening(
        id,
        (p) => [...command(), ...socket2webArgs(p), ...extra],
        { readyText: "listening on", cwd: ROOT },
      );
      const url = `ws://127.0.0.1:${port}/`;
      const target = { targetHost: ctx.targetHost, targetPort: ctx.targetPort };
      return {
        endpoint:
          form === "route"
            ? { dialect: "ws-raw", url: `ws://127.0.0.1:${port}${ROUTE_PATH}` }
            : form === "tls"
              ? { dialect: "s2w", url, ...target, targetPort: ctx.targetTlsPort, protocol: "tls" }
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

/** The tls adapter beside tcp's row: the same source build, the same target behind TLS. */
export const socket2webTls = socket2webRow(
  "socket2web-tls",
  "socket2web tls adapter (source)",
  () => [BUN, "run", SOURCE_ENTRY],
  () => (existsSync(SOURCE_ENTRY) ? null : "src/main.ts does not exist yet"),
  "tls",
);
