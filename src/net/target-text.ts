import { ProxyError } from "../protocol/errors.ts";
import {
  PROXY_PROTOCOL_SETTINGS,
  type ProxyProtocolSetting,
  proxyProtocolSetting,
} from "./proxy-protocol.ts";
import { parseTargetHost } from "./target-host.ts";

/** A target written in a token file, a route or a ticket: a host (IP literal or name) and a port. */
export interface FixedTarget {
  /** An IP literal in normal form, or a host name as written (resolved once, per session). */
  readonly host: string;
  readonly port: number;
  /** A PROXY protocol header before the client's bytes (`off`: none, whatever the server default). */
  readonly proxyProtocol?: ProxyProtocolSetting | undefined;
}

/** The options a route or token file entry may add after its target. */
const OPTION = /^proxy-protocol=(.*)$/;

/**
 * `HOST:PORT`, then options separated by white space: `proxy-protocol=v1|v2|off`. A websockify
 * token file or route without options reads as before. Returns the target, or what is wrong.
 */
export function parseTargetWithOptions(text: string): FixedTarget | string {
  const [targetText = "", ...options] = text.trim().split(/\s+/);
  const target = parseTargetText(targetText);
  if (typeof target === "string") return target;
  let proxyProtocol: ProxyProtocolSetting | undefined;
  for (const option of options) {
    const value = OPTION.exec(option)?.[1];
    if (value === undefined) {
      return `unknown option "${option}" after the target (the one option is proxy-protocol=${PROXY_PROTOCOL_SETTINGS.join("|")})`;
    }
    proxyProtocol = proxyProtocolSetting(value);
    if (proxyProtocol === undefined) {
      return `proxy-protocol expects ${PROXY_PROTOCOL_SETTINGS.join(", ")}, got "${value}"`;
    }
  }
  return proxyProtocol === undefined ? target : { ...target, proxyProtocol };
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
