/**
 * Lower-cases a host name and strips one trailing dot (`LocalHost.` is `localhost`), or
 * returns null when it is not an RFC 1123 host name. A name made only of digits and dots is
 * not a host name here: those are IP literals, valid or not.
 */
export function normaliseHostName(text: string): string | null {
  const name = (text.endsWith(".") ? text.slice(0, -1) : text).toLowerCase();
  if (name.length === 0 || name.length > 253 || /^[\d.]+$/.test(name)) return null;
  return name.split(".").every(isLabel) ? name : null;
}

function isLabel(label: string): boolean {
  return /^[a-z\d]([a-z\d-]{0,61}[a-z\d])?$/.test(label);
}
