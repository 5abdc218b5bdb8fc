import { parsePort } from "../net/port.ts";
import { parseTargetHost } from "../net/target-host.ts";
import type { HandshakeFieldDescriptions } from "../protocol/constants.ts";
import { invalidHandshake } from "../protocol/errors.ts";

/** One handshake field: what the greeting says about it, and how a value becomes typed. */
export interface FieldSpec<Value = unknown> {
  /** Shown in the greeting; say what the field is, and whether it may be left out. */
  readonly description: string;
  /** Absent or `null` is allowed (and parsed to `undefined`). */
  readonly optional: boolean;
  /**
   * The JSON type a value has: a handshake carried as URL query text (all strings) turns the
   * decimal text of an `integer` field into a number before `parse`.
   */
  readonly json: "string" | "integer";
  /** Validates a present value; throws a ProxyError (`invalid_handshake`) naming `name`. */
  parse(value: unknown, name: string): Value;
}

export type FieldSpecs = Readonly<Record<string, FieldSpec>>;

/** The target type a set of fields parses to. */
export type ParsedFields<Specs extends FieldSpecs> = {
  -readonly [Name in keyof Specs]: Specs[Name] extends FieldSpec<infer Value>
    ? Specs[Name]["optional"] extends true
      ? Value | undefined
      : Value
    : never;
};

function field<Value>(
  description: string,
  parse: (value: unknown, name: string) => Value,
  json: "string" | "integer" = "string",
) {
  return { description, optional: false as const, json, parse };
}

/** The same field, allowed to be absent. */
export function optional<Value>(spec: FieldSpec<Value>): FieldSpec<Value> & { optional: true } {
  return { ...spec, optional: true };
}

function requireString(value: unknown, name: string): string {
  if (typeof value !== "string") throw invalidHandshake(`${name} must be a string`);
  return value;
}

/**
 * An IP literal (normalised) or a host name (kept as written), per the protocol's strict rules:
 * numeric-looking strings that are not canonical literals never reach a resolver.
 */
export const hostField = (description: string) =>
  field(description, (value, name) => {
    const host = parseTargetHost(requireString(value, name));
    return host.kind === "ip" ? host.address : host.name;
  });

/** An integral JSON number from 1 to 65535. */
export const portField = (description: string) =>
  field(description, (value, name) => parsePort(value, name), "integer");

/** A host name only (no IP literal), as TLS's SNI needs. */
export const hostNameField = (description: string) =>
  field(description, (value, name) => {
    const text = requireString(value, name);
    let host: ReturnType<typeof parseTargetHost>;
    try {
      host = parseTargetHost(text);
    } catch {
      throw invalidHandshake(`${name} "${text}" is not a valid host name`);
    }
    if (host.kind === "ip")
      throw invalidHandshake(`${name} must be a host name, not an IP address`);
    return host.name;
  });

/** Longest Unix socket path Linux takes (`sun_path` is 108 bytes with its terminating NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

/** A non-empty file path; it is resolved and checked later, against the adapter's allow-list. */
export const pathField = (description: string) =>
  field(description, (value, name) => {
    const text = requireString(value, name);
    if (text === "") throw invalidHandshake(`${name} must not be empty`);
    if (text.includes("\0")) throw invalidHandshake(`${name} must not contain a NUL character`);
    if (Buffer.byteLength(text) > MAX_SOCKET_PATH_BYTES) {
      throw invalidHandshake(`${name} is longer than ${MAX_SOCKET_PATH_BYTES} bytes`);
    }
    return text;
  });

/** Validates every field of a handshake, in declaration order; unknown keys are ignored. */
export function parseFields<Specs extends FieldSpecs>(
  specs: Specs,
  handshake: Readonly<Record<string, unknown>>,
): ParsedFields<Specs> {
  const result: Record<string, unknown> = {};
  // for-in, not Object.entries: no array per field on every session's set-up.
  for (const name in specs) {
    const spec = specs[name] as FieldSpec;
    const value = handshake[name];
    if (value === undefined || value === null) {
      if (!spec.optional) throw invalidHandshake(`${name} is required`);
      result[name] = undefined;
    } else {
      result[name] = spec.parse(value, name);
    }
  }
  return result as ParsedFields<Specs>;
}

/** The greeting's view of a set of fields: name → description. */
export function describeFields(specs: FieldSpecs): HandshakeFieldDescriptions {
  return Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, spec.description]));
}
