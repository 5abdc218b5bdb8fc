import { UsageError } from "../../config/usage-error.ts";
import type { FieldValues } from "../index.ts";
import { parseHostPort } from "./host-port-arg.ts";

/** What the handshake asks for: a protocol, its fields, and how to name the target in messages. */
export interface TargetChoice {
  protocol: string;
  fields: FieldValues;
  label: string;
}

/**
 * Protocols whose target is a local path (`target_path`); every other protocol's target is a
 * network address (`target_ip`, `target_port`). A new network protocol needs no entry here.
 */
const PATH_PROTOCOLS: ReadonlySet<string> = new Set(["unix"]);

const UNIX_PREFIX = "unix:";
const FIELD = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

/**
 * `--target` in the form its protocol needs: `host:port` and `[v6]:port` for network protocols,
 * a path for unix (`--protocol unix --target /run/app.sock`, or `--target unix:/run/app.sock`).
 * `--field name=value` adds a protocol's other fields (for example `server_name` for tls).
 */
export function parseTarget(
  value: unknown,
  protocolFlag: string | undefined,
  fieldFlags: readonly string[] = [],
): TargetChoice {
  const unixForm = typeof value === "string" && value.startsWith(UNIX_PREFIX);
  const protocol = protocolFlag ?? (unixForm ? "unix" : "tcp");
  let fields: FieldValues;
  let label: string;
  if (PATH_PROTOCOLS.has(protocol)) {
    const path = unixForm ? (value as string).slice(UNIX_PREFIX.length) : value;
    if (typeof path !== "string" || path === "")
      throw new UsageError(`--target expects a socket path for ${protocol}, got no value`);
    fields = { target_path: path };
    label = `${protocol}:${path}`;
  } else {
    if (unixForm) {
      throw new UsageError(
        `--target ${JSON.stringify(value)} is a unix socket, but --protocol is ${protocol}`,
      );
    }
    const { host, port } = parseHostPortTarget(value);
    fields = { target_ip: host, target_port: port };
    label = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  }
  for (const flag of fieldFlags) {
    const match = FIELD.exec(flag);
    if (!match) throw new UsageError(`--field expects name=value, got ${JSON.stringify(flag)}`);
    const [, name, fieldValue] = match as unknown as [string, string, string];
    if (name === "protocol" || name === "token" || Object.hasOwn(fields, name)) {
      throw new UsageError(
        `--field cannot set ${name}: it comes from --protocol, --token or --target`,
      );
    }
    fields[name] = fieldValue;
  }
  return { protocol, fields, label };
}

function parseHostPortTarget(value: unknown) {
  try {
    return parseHostPort("target", value);
  } catch (error) {
    if (typeof value === "string" && value.startsWith("/")) {
      throw new UsageError(
        `--target expects host:port, got ${JSON.stringify(value)}; for a unix socket give --target unix:${value}`,
      );
    }
    throw error;
  }
}
