import {
  GREETING_KEY,
  type HandshakeFieldDescriptions,
  isErrorCode,
  type Status,
} from "../protocol/constants.ts";
import { Socket2WebError } from "./errors.ts";

export type SupportedProtocols = Record<string, HandshakeFieldDescriptions>;

/** A protocol's handshake fields, named as the greeting lists them (`target_ip`, `target_port`…). */
export type FieldValues = Record<string, string | number>;

export interface HandshakeFields {
  protocol: string;
  fields: FieldValues;
  token?: string | undefined;
}

/** Keys the handshake itself uses: a protocol field may not take these names. */
const RESERVED_KEYS = new Set(["protocol", "token"]);

/** Refuses field names the handshake reserves, and values that are neither strings nor numbers. */
export function checkFields(fields: FieldValues): void {
  for (const [name, value] of Object.entries(fields)) {
    if (RESERVED_KEYS.has(name)) throw new TypeError(`"${name}" is not a protocol field`);
    if (typeof value !== "string" && typeof value !== "number") {
      throw new TypeError(`field "${name}" must be a string or a number`);
    }
  }
}

function parseObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Socket2WebError("protocol_error", `${what} is not JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Socket2WebError("protocol_error", `${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function isStringMap(value: unknown): value is Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  return Object.values(value).every((field) => typeof field === "string");
}

/** The greeting's map of protocol name → handshake field descriptions. */
export function parseGreeting(text: string): SupportedProtocols {
  const greeting = parseObject(text, "greeting");
  const protocols = greeting[GREETING_KEY];
  if (typeof protocols !== "object" || protocols === null || Array.isArray(protocols)) {
    throw new Socket2WebError("protocol_error", `greeting has no "${GREETING_KEY}" object`);
  }
  const result: SupportedProtocols = {};
  for (const [name, fields] of Object.entries(protocols)) {
    if (!isStringMap(fields)) {
      throw new Socket2WebError("protocol_error", `greeting describes protocol "${name}" badly`);
    }
    result[name] = fields;
  }
  return result;
}

export function parseStatus(text: string): Status {
  const status = parseObject(text, "status");
  if (status.status === "connected" && typeof status.protocol === "string") {
    return { ...status, status: "connected", protocol: status.protocol };
  }
  if (status.status === "error" && isErrorCode(status.error)) {
    const reason = typeof status.reason === "string" ? status.reason : "";
    return { status: "error", error: status.error, reason };
  }
  throw new Socket2WebError("protocol_error", `unexpected status ${text.slice(0, 200)}`);
}

export function handshakeMessage({ protocol, fields, token }: HandshakeFields): string {
  return JSON.stringify(
    token === undefined ? { protocol, ...fields } : { protocol, ...fields, token },
  );
}

/**
 * The URL-form handshake: the same fields as query parameters (`?protocol=tcp&target_ip=…`).
 * A server that knows this form answers with the status at once; one that does not greets as
 * usual, and the handshake message follows.
 */
export function handshakeUrl(url: string | URL, { protocol, fields, token }: HandshakeFields): URL {
  // A page may give a URL relative to itself, as `new WebSocket()` allows.
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  const result = new URL(url, base);
  result.searchParams.set("protocol", protocol);
  for (const [name, value] of Object.entries(fields)) result.searchParams.set(name, String(value));
  if (token !== undefined) result.searchParams.set("token", token);
  return result;
}

/** Whether a first frame is the greeting (as opposed to a URL-form status). */
export function isGreeting(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && GREETING_KEY in value;
  } catch {
    return false;
  }
}
