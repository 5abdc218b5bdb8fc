import { formatHostPort } from "../net/host-port.ts";
import type { ServerConfig } from "./config.ts";

/** One line saying why the listener could not be opened, and what to do about it. */
export function explainBindError(
  error: unknown,
  { ip, port }: Pick<ServerConfig, "ip" | "port">,
): string {
  const code = (error as { code?: string }).code;
  const where = formatHostPort(ip, port);
  switch (code) {
    case "EADDRINUSE":
      return `cannot listen on ${where}: the port is already in use by another process; choose another with --port`;
    case "EACCES":
    case "EPERM":
      return `cannot listen on ${where}: permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE, try --port 8080`;
    case "EADDRNOTAVAIL":
      return `cannot listen on ${where}: ${ip} is not an address of this host; use one of its addresses, 127.0.0.1 or 0.0.0.0`;
    default:
      return `cannot listen on ${where}: ${(error as Error).message ?? String(error)}`;
  }
}
