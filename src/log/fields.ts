/**
 * Structured fields of a log line. The text format already says them in its message and leaves
 * them out; the JSON format writes each one as a key of the line's object.
 */
export interface LogFieldValues {
  /** Session id, as the text lines say "session N". */
  readonly session?: number;
  /** The client's address (after --trust-proxy). */
  readonly client?: string;
  /** The target as host:port. */
  readonly target?: string;
  readonly protocol?: string;
  readonly bytes_from_client?: number;
  readonly bytes_from_target?: number;
  readonly duration_ms?: number;
  readonly close_code?: number;
  /** The protocol error code, or an internal error's message. */
  readonly error?: string;
  /** Why something was refused, in words. */
  readonly reason?: string;
  readonly [key: string]: string | number | boolean | undefined;
}

/** A marker the reporters recognise among a log call's arguments. */
export class LogFields {
  constructor(readonly values: LogFieldValues) {}
}

/**
 * Attaches fields to a log call: `logger.info("session 3: closed", fields({ session: 3, … }))`.
 * Undefined values are left out.
 */
export function fields(values: LogFieldValues): LogFields {
  return new LogFields(values);
}
