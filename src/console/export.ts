import { SessionCapture } from "../capture/session-capture.ts";
import { CloseCode } from "../protocol/constants.ts";
import type { SessionEnd } from "../session/end.ts";
import { toBase64 } from "./format.ts";
import type { CloseInfo, ConsoleSession, HandshakeRequest, LogEntry } from "./session.ts";

/** What an export needs of a session: the page's recording, not the live WebSocket. */
export type RecordedSession = Pick<
  ConsoleSession,
  "url" | "request" | "entries" | "incomplete" | "startedAt" | "closeInfo" | "failure" | "status"
>;

/** How the stream between client and target ended, as far as the page can tell from the close. */
export function sessionEnd(close: CloseInfo | undefined): SessionEnd {
  if (!close || close.byPage) return "client-end";
  if (close.code === CloseCode.normal) return "target-end";
  if (close.code === CloseCode.internalError) return "target-reset";
  return "client-end";
}

const micros = (ms: number) => Math.round(ms * 1000);

/**
 * The session as pcapng, with the same writer the server's --capture uses. The page does not
 * know the addresses on the proxy's side: the target is the one the handshake named when it
 * is an IP address, and the client a documentation address.
 */
export function exportPcapng(session: RecordedSession): Uint8Array {
  const { request } = session;
  const target = targetOf(request);
  const capture = new SessionCapture({
    client: { address: "", port: 49152 },
    target: { address: target.address, port: target.port },
    transport: request.protocol === "udp" ? "udp" : "tcp",
    comments: [
      `Exported by the socket2web console: ${request.protocol} session via ${session.url}` +
        ` to ${target.label}`,
      ...(session.incomplete
        ? ["the console's log was cleared or full: some data is missing"]
        : []),
    ],
  });
  const parts = [capture.start(micros(session.startedAt))];
  for (const entry of session.entries) {
    if (!entry.bytes) continue;
    const at = micros(entry.time);
    parts.push(
      entry.kind === "sent"
        ? capture.fromClient(entry.bytes, at)
        : capture.fromTarget(entry.bytes, at),
    );
  }
  const close = session.closeInfo;
  const last = session.entries.at(-1)?.time ?? session.startedAt;
  if (session.failure) {
    parts.push(
      capture.end(
        {
          code: close?.code,
          reason: `${session.failure.error}: ${session.failure.reason}`,
          how: "target-reset",
        },
        micros(last),
      ),
    );
  } else if (close) {
    parts.push(
      capture.end({ code: close.code, reason: close.reason, how: sessionEnd(close) }, micros(last)),
    );
  }
  return concat(parts);
}

/** One JSON object per line: a header, then every entry, payloads in base64. */
export function exportJsonLines(session: RecordedSession): string {
  const lines: unknown[] = [
    {
      type: "session",
      url: session.url,
      protocol: session.request.protocol,
      fields: session.request.fields,
      started: new Date(session.startedAt).toISOString(),
      status: session.status,
      incomplete: session.incomplete,
    },
    ...session.entries.map(entryLine),
  ];
  return `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`;
}

function entryLine(entry: LogEntry): unknown {
  const base = { time: new Date(entry.time).toISOString(), type: entry.kind, size: entry.size };
  if (entry.kind === "sent" || entry.kind === "received") {
    return entry.bytes ? { ...base, data: toBase64(entry.bytes) } : { ...base, data: null };
  }
  return { ...base, text: entry.text };
}

function targetOf(request: HandshakeRequest): { address: string; port: number; label: string } {
  const address = request.fields.target_ip ?? "";
  const port = Number(request.fields.target_port ?? 0) || 0;
  const label = Object.entries(request.fields)
    .map(([name, value]) => `${name}=${value}`)
    .join(" ");
  return { address, port, label };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
