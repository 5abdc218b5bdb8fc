import { resolve } from "node:path";
import type { ServerConfig } from "./config.ts";

export interface FeatureLine {
  readonly text: string;
  readonly fields: Record<string, string>;
}

/**
 * Where the optional features are, said once at start-up next to the listening line: the
 * console's address (to open in a browser), the Wisp prefix (for Wisp clients), the capture
 * folder (where the pcapng files land) and the PROXY protocol every target is sent (a target that
 * does not expect it sees garbage), each only when it is on.
 */
export function featureLines(
  serverUrl: string,
  config: Pick<ServerConfig, "console" | "wisp" | "capture" | "captureFilter" | "proxyProtocol">,
): FeatureLine[] {
  const lines: FeatureLine[] = [];
  if (config.console) {
    // The same host and port as the proxy; ws → http, wss → https.
    const page = `${serverUrl.replace(/^ws/, "http")}/`;
    lines.push({ text: `console page on ${page}`, fields: { console: page } });
  }
  if (config.wisp) {
    const wisp = `${serverUrl}${config.wisp}`;
    lines.push({ text: `Wisp on ${wisp}`, fields: { wisp } });
  }
  if (config.capture) {
    const folder = resolve(config.capture);
    const filter =
      config.captureFilter.length > 0 ? ` matching ${config.captureFilter.join(", ")}` : "";
    lines.push({
      text: `capture: one pcapng file per session${filter} in ${folder}`,
      fields: { capture: folder },
    });
  }
  if (config.proxyProtocol !== "off") {
    lines.push({
      text: `PROXY protocol ${config.proxyProtocol} header to every target, unless its route, token file entry or ticket says otherwise`,
      fields: { proxyProtocol: config.proxyProtocol },
    });
  }
  return lines;
}
