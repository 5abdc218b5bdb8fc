// Socket2Web client: browser-safe (only WebSocket and Web Streams), also for Bun and Node.

export {
  type CloseInfo,
  Connection,
  DEFAULT_MAX_READABLE_BYTES,
  DEFAULT_READABLE_HIGH_WATER_MARK,
  DEFAULT_WRITABLE_HIGH_WATER_MARK,
  type HandshakeForm,
  type StreamOptions,
} from "./connection.ts";
export {
  type ClientErrorCode,
  OVERFLOW_CLOSE_CODE,
  Socket2WebError,
  type Socket2WebErrorCode,
} from "./errors.ts";
export type { FieldValues, SupportedProtocols } from "./messages.ts";
export {
  type ConnectOptions,
  connect,
  DEFAULT_CONNECT_TIMEOUT_MS,
} from "./open-connection.ts";
