import { UsageError } from "../../config/usage-error.ts";

export interface HostPort {
  /** Without brackets: `::1`, `127.0.0.1`, `db.internal`. */
  host: string;
  port: number;
}

const PORT = /^(0|[1-9][0-9]{0,4})$/;

/**
 * `host:port`, `[ipv6]:port`. An unbracketed IPv6 address is refused: `::1:80` could
 * mean port 80 of `::1` or the address `::1:80`.
 */
export function parseHostPort(
  flag: string,
  value: unknown,
  options: { allowPortZero?: boolean } = {},
): HostPort {
  const expected = `host:port (IPv6 in brackets, as [::1]:80)`;
  if (typeof value !== "string" || value === "")
    throw new UsageError(`--${flag} expects ${expected}, got no value`);
  const bracketed = /^\[([^\]]+)\]:([^:]*)$/.exec(value);
  const plain = /^([^:[\]]+):([^:]*)$/.exec(value);
  const match = bracketed ?? plain;
  if (!match) {
    const hint =
      value.split(":").length > 2 && !value.startsWith("[")
        ? "; put an IPv6 address in brackets"
        : "";
    throw new UsageError(`--${flag} expects ${expected}, got ${JSON.stringify(value)}${hint}`);
  }
  const host = match[1] as string;
  const portText = match[2] as string;
  const port = Number(portText);
  const minPort = options.allowPortZero ? 0 : 1;
  if (!PORT.test(portText) || port < minPort || port > 65535) {
    throw new UsageError(
      `--${flag} expects a port from ${minPort} to 65535, got ${JSON.stringify(portText)}`,
    );
  }
  if (bracketed && !host.includes(":")) {
    throw new UsageError(`--${flag}: brackets are for IPv6 addresses, got ${JSON.stringify(host)}`);
  }
  return { host, port };
}
