import { ProxyError } from "../protocol/errors.ts";
import { parseTargetHost } from "./target-host.ts";

/** A target written in a token file, a route or a ticket: a host (IP literal or name) and a port. */
export interface FixedTarget {
  /** An IP literal in normal form, or a host name as written (resolved once, per session). */
  readonly host: string;
  readonly port: number;
}

const PORT_TEXT = /^[1-9][0-9]{0,4}$/;

/**
 * Reads `HOST:PORT`, with IPv6 in brackets (`[::1]:5900`), as websockify's token files write
 * targets. Returns the target, or a sentence saying what is wrong.
 */
export function parseTargetText(text: string): FixedTarget | string {
  const trimmed = text.trim();
  let hostText: string;
  let portText: string;
  if (trimmed.startsWith("[")) {
    const end = trimmed.indexOf("]");
    if (end < 0 || trimmed[end + 1] !== ":") {
      return `"${trimmed}" is not [IPV6]:PORT`;
    }
    hostText = trimmed.slice(1, end);
    portText = trimmed.slice(end + 2);
  } else {
    const colon = trimmed.lastIndexOf(":");
    if (colon < 0) return `"${trimmed}" is not HOST:PORT`;
    hostText = trimmed.slice(0, colon);
    portText = trimmed.slice(colon + 1);
    if (hostText.includes(":"))
      return `"${trimmed}": write an IPv6 address in brackets, [ADDR]:PORT`;
  }
  const port = Number(portText);
  if (!PORT_TEXT.test(portText) || port > 65535) {
    return `"${trimmed}": the port must be a whole number from 1 to 65535`;
  }
  if (hostText === "") return `"${trimmed}" has no host`;
  try {
    const host = parseTargetHost(hostText);
    return { host: host.kind === "ip" ? host.address : host.name, port };
  } catch (error) {
    if (error instanceof ProxyError)
      return `"${trimmed}": ${error.message.replace(/^target_ip /, "")}`;
    throw error;
  }
}
