/**
 * Text log lines are read by people and by line-based tools, so nothing a client sends may end a
 * line, move the cursor or recolour a terminal, and no client string may make a line huge. JSON
 * lines need neither: JSON.stringify escapes every control character.
 */

/** Longest client-supplied string a log message carries; a host name is at most 253 characters. */
export const CLIENT_TEXT_MAX = 256;
/** Longest string argument of a text line, whatever its source: the net under every call site. */
export const TEXT_ARG_MAX = 4096;

/**
 * C0 and C1 controls, DEL, and the characters that end a line or reorder text in a terminal or
 * viewer without being visible (line/paragraph separators, bidirectional marks and overrides).
 */
const INVISIBLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is this module's job
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const SHORT: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** Each control character as an escape: `\n`, `\r`, `\t`, `\xHH` up to 0xff, `\uHHHH` above. */
export function escapeControls(text: string): string {
  return text.replace(INVISIBLE, (char) => {
    const short = SHORT[char];
    if (short) return short;
    const code = char.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** At most `max` characters, then a marker saying how many were left out. */
export function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  // Never end inside a surrogate pair: half a character would print as garbage.
  const code = text.charCodeAt(max - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
  return `${text.slice(0, end)}…[${text.length - end} more chars]`;
}

/** A string the client chose (a host, a protocol name, an error quoting them), fit for a log message. */
export function clientText(text: string): string {
  return escapeControls(capText(text, CLIENT_TEXT_MAX));
}

/** What the text reporter does to every string it prints. */
export function safeLine(text: string): string {
  return escapeControls(capText(text, TEXT_ARG_MAX));
}
