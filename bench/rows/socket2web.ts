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

/** How a row's sessions reach the target: the tcp adapter, or the tls adapter to its TLS port. */
type Via = "tcp" | "tls";

function socket2webRow(
  id: string,
  label: string,
  command: () => string[],
  exists: () => string | null,
  via: Via = "tcp",
): Row {
  return {
    id,
    label,
    unavailable: exists,
    async start(ctx) {
      const extra = via === "tls" ? ["--tls-target-ca", ctx.targetCaFile] : [];
      const { proc, port } = await startListening(
        id,
        (p) => [...command(), ...socket2webArgs(p), ...extra],
        { readyText: "listening on", cwd: ROOT },
      );
      return {
        endpoint: {
          dialect: "s2w",
          url: `ws://127.0.0.1:${port}/`,
          targetHost: ctx.targetHost,
          targetPort: via === "tls" ? ctx.targetTlsPort : ctx.targetPort,
          protocol: via,
        },
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

/** The tls adapter beside tcp's row: the same source build, the same target behind TLS. */
export const socket2webTls = socket2webRow(
  "socket2web-tls",
  "socket2web tls adapter (source)",
  () => [BUN, "run", SOURCE_ENTRY],
  () => (existsSync(SOURCE_ENTRY) ? null : "src/main.ts does not exist yet"),
  "tls",
);
