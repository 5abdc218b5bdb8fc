import { formatHostPort } from "../../net/host-port.ts";
import type { HostPort } from "./host-port-arg.ts";

/** Why `forward` could not open its local listener, and what to do: worded as the server's. */
export function explainListenError(error: unknown, { host, port }: HostPort): string {
  const code = (error as { code?: string }).code;
  const where = formatHostPort(host, port);
  const message = (error as Error).message ?? String(error);
  switch (code) {
    case "EADDRINUSE":
      return `cannot listen on ${where}: port ${port} is already in use by another process; choose another with --listen (port 0 picks a free one)`;
    case "EACCES":
    case "EPERM":
      return `cannot listen on ${where}: permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE, choose another with --listen`;
    case "EADDRNOTAVAIL":
      return `cannot listen on ${where}: ${host} is not an address of this host; use one of its addresses, such as 127.0.0.1, in --listen`;
    default:
      return `cannot listen on ${where}: ${message}`;
  }
}
