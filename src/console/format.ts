/** How the console shows and reads bytes: text with visible control characters, hex dumps, hex input. */

export type LineEnding = "none" | "lf" | "crlf" | "cr";

export const LINE_ENDINGS: Record<LineEnding, string> = {
  none: "",
  lf: "\n",
  crlf: "\r\n",
  cr: "\r",
};

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

export function textBytes(text: string, ending: LineEnding): Uint8Array {
  return encoder.encode(text + LINE_ENDINGS[ending]);
}

export class HexInputError extends Error {
  override readonly name = "HexInputError";
}

/**
 * Hex bytes as people type them: `de ad be ef`, `deadbeef`, `0xde,0xad`, `de:ad`. Throws
 * HexInputError naming the first problem.
 */
export function parseHex(text: string): Uint8Array {
  const cleaned = text.replace(/0x/gi, "").replace(/[\s,:;-]+/g, "");
  if (cleaned === "") throw new HexInputError("no hex digits");
  const bad = /[^0-9a-f]/i.exec(cleaned);
  if (bad) throw new HexInputError(`"${bad[0]}" is not a hex digit`);
  if (cleaned.length % 2 !== 0)
    throw new HexInputError("an odd number of hex digits (each byte takes two)");
  const bytes = new Uint8Array(cleaned.length / 2);
  for (let i = 0; i < bytes.length; i++)
    bytes[i] = Number.parseInt(cleaned.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

const ESCAPES: Record<string, string> = { "\r": "\\r", "\n": "\\n\n", "\t": "\\t", "\0": "\\0" };

const isControl = (code: number) => code < 0x20 || code === 0x7f;

/**
 * Text as it would print, with what would not made visible: control characters as escapes
 * (`\r`, `\n` then a line break, `\x1b`), and bytes that are not UTF-8 as `\xNN`.
 */
export function showText(bytes: Uint8Array): string {
  let text: string;
  try {
    text = strictDecoder.decode(bytes);
  } catch {
    return Array.from(bytes, (byte) =>
      byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : visible(byte),
    ).join("");
  }
  let out = "";
  for (const char of text) {
    const code = char.charCodeAt(0);
    out += isControl(code) ? visible(code) : char;
  }
  return out;
}

function visible(code: number): string {
  return ESCAPES[String.fromCharCode(code)] ?? `\\x${code.toString(16).padStart(2, "0")}`;
}

/** A classic hex dump: offset, 16 bytes in hex, and the printable ASCII beside them. */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let offset = 0; offset < bytes.byteLength; offset += 16) {
    const row = bytes.subarray(offset, offset + 16);
    const hex = Array.from(row, (byte) => byte.toString(16).padStart(2, "0"));
    const left = hex.slice(0, 8).join(" ");
    const right = hex.slice(8).join(" ");
    const ascii = Array.from(row, (byte) =>
      byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : ".",
    ).join("");
    lines.push(
      `${offset.toString(16).padStart(8, "0")}  ${`${left}  ${right}`.padEnd(49)} |${ascii}|`,
    );
  }
  return lines.join("\n");
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatElapsed(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const two = (value: number) => String(value).padStart(2, "0");
  return `${hours > 0 ? `${hours}:` : ""}${two(minutes)}:${two(seconds % 60)}`;
}

export function formatClock(time: number): string {
  const date = new Date(time);
  const two = (value: number) => String(value).padStart(2, "0");
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, "0")}`;
}

/**
 * A handshake field's value as typed: a whole number becomes a JSON number (ports), anything
 * else stays a string. The greeting describes fields in words only, so this is the one rule.
 */
export function fieldValue(text: string): string | number {
  const trimmed = text.trim();
  return /^(0|[1-9]\d{0,15})$/.test(trimmed) ? Number(trimmed) : trimmed;
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.byteLength; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
