import type { Extension } from "./packet.ts";

/** Extension ids of wisp-protocol v2. */
export const ExtensionId = {
  udp: 0x01,
  passwordAuth: 0x02,
  keyAuth: 0x03,
  motd: 0x04,
  streamOpenConfirmation: 0x05,
} as const;

/** What this server offers in its INFO packet. */
export interface ServerExtensions {
  readonly udp: boolean;
  /** Password authentication, required: the password is a Socket2Web token or ticket. */
  readonly passwordRequired: boolean;
}

export function serverExtensions({ udp, passwordRequired }: ServerExtensions): Extension[] {
  const extensions: Extension[] = [];
  if (udp) extensions.push({ id: ExtensionId.udp, payload: new Uint8Array(0) });
  if (passwordRequired)
    extensions.push({ id: ExtensionId.passwordAuth, payload: Uint8Array.of(1) });
  return extensions;
}

export interface PasswordCredentials {
  readonly username: string;
  readonly password: string;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

/**
 * Reads the client's password extension payload. The spec's layout is a uint8 user-name length,
 * the user name, then the password filling the rest; wisp-js 0.5 (and so its users) also puts a
 * little-endian uint16 password length after the user-name length. Both are accepted: the wisp-js
 * form is recognised when that uint16 is exactly the number of bytes left for the password.
 * Returns undefined for a payload neither form can read.
 */
export function parsePasswordPayload(payload: Uint8Array): PasswordCredentials | undefined {
  if (payload.byteLength < 1) return undefined;
  const usernameLength = payload[0] as number;
  try {
    if (payload.byteLength >= 3) {
      const passwordLength = (payload[1] as number) | ((payload[2] as number) << 8);
      if (3 + usernameLength + passwordLength === payload.byteLength) {
        return {
          username: utf8.decode(payload.subarray(3, 3 + usernameLength)),
          password: utf8.decode(payload.subarray(3 + usernameLength)),
        };
      }
    }
    if (1 + usernameLength > payload.byteLength) return undefined;
    return {
      username: utf8.decode(payload.subarray(1, 1 + usernameLength)),
      password: utf8.decode(payload.subarray(1 + usernameLength)),
    };
  } catch {
    return undefined;
  }
}

/** The spec's layout (no password length), for tests and clients. */
export function encodePasswordPayload({ username, password }: PasswordCredentials): Uint8Array {
  const user = utf8Encoder.encode(username);
  const pass = utf8Encoder.encode(password);
  if (user.byteLength > 255) throw new RangeError("a Wisp user name is at most 255 bytes");
  const bytes = new Uint8Array(1 + user.byteLength + pass.byteLength);
  bytes[0] = user.byteLength;
  bytes.set(user, 1);
  bytes.set(pass, 1 + user.byteLength);
  return bytes;
}
