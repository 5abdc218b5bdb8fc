import { parseAddress } from "../net/address.ts";

function isLoopback(ip: string): boolean {
  if (ip === "localhost") return true;
  const address = parseAddress(ip);
  return address !== null && address.range() === "loopback";
}

/**
 * The start-up warning for a proxy anyone who reaches its port can use to reach anything but the
 * built-in denied classes: listening beyond loopback with no allow rule and no credential.
 */
export function openProxyWarning(
  ip: string,
  allowRules: number,
  credentialRequired: boolean,
): string | undefined {
  if (isLoopback(ip) || allowRules > 0 || credentialRequired) return undefined;
  return (
    `the proxy is open: it listens on ${ip} with no --allow rule and no authentication, so anyone ` +
    "who reaches it can connect to any host and port it can reach (private networks included); " +
    "add --allow rules, --auth-token-file or --ticket-secret, or listen on 127.0.0.1"
  );
}
