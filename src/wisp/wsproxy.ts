export interface WsproxyTarget {
  readonly host: string;
  readonly port: number;
}

const PORT = /^[0-9]{1,5}$/;

/**
 * The target of a wsproxy URL: its last path segment is `host:port` (`[v6]:port` for an IPv6
 * address; percent-escapes decoded). Returns a reason instead when the segment is not of that form.
 */
export function parseWsproxyTarget(segment: string): WsproxyTarget | string {
  let text: string;
  try {
    text = decodeURIComponent(segment);
  } catch {
    return `"${segment}" is not a valid percent-encoded path segment`;
  }
  const colon = text.lastIndexOf(":");
  if (colon <= 0) return `"${text}" is not host:port`;
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  else if (host.includes(":")) return `"${text}" needs brackets around an IPv6 address`;
  const port = Number(portText);
  if (!PORT.test(portText) || port < 1 || port > 65535)
    return `port "${portText}" must be a whole number from 1 to 65535`;
  return { host, port };
}
