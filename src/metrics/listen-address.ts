import { isIP } from "node:net";

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * `ADDR:PORT` for --metrics-listen: an IPv4 address, `[IPv6]`, or localhost, and a port 1–65535.
 * Returns an error message naming what was wrong instead of throwing, so the caller words it as
 * its own usage error.
 */
export function parseListenAddress(text: string): ListenAddress | string {
  const shown = JSON.stringify(text);
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (!match) {
    return `expects ADDRESS:PORT, e.g. 127.0.0.1:9090 or [::1]:9090, got ${shown}`;
  }
  const [, v6, other = "", portText = ""] = match;
  const host = v6 ?? other;
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return `expects a port from 1 to 65535 after the colon, got ${shown}`;
  }
  if (v6 !== undefined ? isIP(v6) !== 6 : isIP(host) !== 4 && host !== "localhost") {
    return `expects an IPv4 address, [IPv6 address] or localhost before the port, got ${shown}`;
  }
  return { host, port };
}
