import { getCACertificates } from "node:tls";
import { formatHostPort } from "../net/host-port.ts";
import { hostField, hostNameField, optional, parseFields, portField } from "./fields.ts";
import type { AdapterSettings } from "./settings.ts";
import type { TlsConnectOptions } from "./stream-socket.ts";
import { openTcp } from "./tcp-connect.ts";
import { defineProtocol, type NetworkAdapter } from "./types.ts";

const fields = {
  target_ip: hostField("IP Address"),
  target_port: portField("Port for IP Address"),
  server_name: optional(
    hostNameField(
      "Optional: host name to send as SNI and to verify the certificate against (default: target_ip when it is a host name)",
    ),
  ),
};

type TlsTarget = ReturnType<typeof parse>;
const parse = (handshake: Readonly<Record<string, unknown>>) => parseFields(fields, handshake);

/**
 * What every tls connection trusts: the system's CAs (Bun's default store), plus `--tls-target-ca`.
 * Built once: Node-style `ca` replaces the default store, so the extra CA is added to a copy of it.
 */
function trustOptions(settings: AdapterSettings): TlsConnectOptions {
  // Always explicit: Bun 1.4.5 makes a plain TCP connection for `tls: {}`.
  if (settings.tlsTargetInsecure) return { rejectUnauthorized: false };
  if (settings.tlsTargetCa === undefined) return { rejectUnauthorized: true };
  return { rejectUnauthorized: true, ca: [...getCACertificates("default"), settings.tlsTargetCa] };
}

/** The name a certificate must carry: `server_name`, else a host-name target (without its root dot). */
function serverNameOf(target: TlsTarget): string | undefined {
  const name = target.server_name ?? (isIpLiteral(target.target_ip) ? undefined : target.target_ip);
  return name?.replace(/\.$/, "").toLowerCase();
}

const isIpLiteral = (host: string) => host.includes(":") || /^[\d.]+$/.test(host);

/** TCP + TLS to the target; certificates are verified unless the server is run insecure. */
export function tls(settings: AdapterSettings): NetworkAdapter<TlsTarget> {
  const trust = trustOptions(settings);
  return defineProtocol({
    name: "tls",
    fields,
    endpoint: "network",
    transport: "stream",
    parse,
    locate: (target) => ({ host: target.target_ip, port: target.target_port }),
    open({ target, location: { address, port }, signal, preamble }, events) {
      return openTcp({
        address,
        port,
        where: formatHostPort(address, port),
        signal,
        events,
        preamble,
        // No name for an IP target: Bun would send the address as SNI (RFC 6066 forbids it);
        // "" sends none, and the certificate is still checked against the address.
        tls: { ...trust, serverName: serverNameOf(target) ?? "" },
      });
    },
  });
}
