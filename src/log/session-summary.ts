import { LogLevels } from "consola";
import type { ClosedBy } from "./closed-by.ts";
import { fields } from "./fields.ts";
import { formatBytes, type Logger } from "./logger.ts";
import { clientText } from "./safe-text.ts";

/** What the one line for a closed session says: a session's close record has all of it. */
export interface SessionSummary {
  readonly id: number;
  /** The client protocol it came in by (socket2web, raw, wisp). */
  readonly frontEnd: string;
  /** Who it belongs to (`anonymous` without a credential). */
  readonly principal: string;
  readonly client: string;
  /** The adapter and `host:port`, once the handshake named them. */
  readonly protocol?: string | undefined;
  readonly target?: string | undefined;
  readonly bytesFromClient: number;
  readonly bytesFromTarget: number;
  readonly durationMs: number;
  readonly closeCode: number | undefined;
  /** Who chose the close code: a client's code is its own word, not the server's. */
  readonly closedBy: ClosedBy;
  /** The protocol error code its status carried, if any. */
  readonly error?: string | undefined;
  /** Datagram transports only: messages lost where UDP loses them. */
  readonly dropped?: { readonly toClient: number; readonly toTarget: number } | undefined;
}

/**
 * The info line for a closed session, `… close CODE by client|server|target`, and in JSON the
 * same facts as fields. The target in the message is capped (the JSON field keeps it whole).
 */
export function logSessionSummary(logger: Logger, summary: SessionSummary): void {
  if (logger.level < LogLevels.info) return;
  const target =
    summary.protocol && summary.target ? `${summary.protocol} ${clientText(summary.target)}` : "-";
  logger.info(
    `session ${summary.id} ${summary.client} -> ${target}` +
      ` up ${formatBytes(summary.bytesFromClient)} down ${formatBytes(summary.bytesFromTarget)}` +
      ` ${(summary.durationMs / 1000).toFixed(3)}s close ${summary.closeCode} by ${summary.closedBy}` +
      `${droppedNote(summary)} frontend=${summary.frontEnd}` +
      ` principal=${clientText(summary.principal)}`,
    fields({
      session: summary.id,
      frontend: summary.frontEnd,
      principal: summary.principal,
      client: summary.client,
      protocol: summary.protocol,
      target: summary.target,
      bytes_from_client: summary.bytesFromClient,
      bytes_from_target: summary.bytesFromTarget,
      duration_ms: Math.round(summary.durationMs),
      close_code: summary.closeCode,
      closed_by: summary.closedBy,
      error: summary.error,
      dropped_to_client: summary.dropped?.toClient,
      dropped_to_target: summary.dropped?.toTarget,
    }),
  );
}

function droppedNote({ dropped }: SessionSummary): string {
  if (!dropped || dropped.toClient + dropped.toTarget === 0) return "";
  return ` dropped ${dropped.toClient} to client ${dropped.toTarget} to target`;
}
