import {
  GREETING_KEY,
  type HandshakeFieldDescriptions,
  isErrorCode,
  type Status,
} from "../protocol/constants.ts";
import { Socket2WebError } from "./errors.ts";

export type SupportedProtocols = Record<string, HandshakeFieldDescriptions>;

export interface HandshakeFields {
  protocol: string;
  target_ip: string;
  target_port: number;
  token?: string | undefined;
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

export function handshakeMessage(fields: HandshakeFields): string {
  const { protocol, target_ip, target_port, token } = fields;
  return JSON.stringify(
    token === undefined
      ? { protocol, target_ip, target_port }
      : { protocol, target_ip, target_port, token },
  );
}
