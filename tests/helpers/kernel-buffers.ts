import { readFileSync } from "node:fs";

const maxOf = (path: string) => Number(readFileSync(path, "utf8").trim().split(/\s+/)[2]);

/**
 * What the kernel may hold in flight on the two TCP connections of a proxied session
 * (client↔proxy and proxy↔target) once readers stop: each receive buffer can grow to tcp_rmem's
 * maximum (32 MiB on this machine kind) and each send buffer to tcp_wmem's. A flow-control test
 * must send more than this, and may only blame the proxy for what goes beyond it.
 */
export const KERNEL_IN_FLIGHT =
  2 * (maxOf("/proc/sys/net/ipv4/tcp_rmem") + maxOf("/proc/sys/net/ipv4/tcp_wmem"));
