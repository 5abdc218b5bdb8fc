import { invalidHandshake } from "../protocol/errors.ts";

export function parsePort(value: unknown, field = "target_port"): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw invalidHandshake(`${field} must be an integer from 1 to 65535, got ${describe(value)}`);
  }
  return value;
}

/** What the client sent, in words: JSON has no Infinity, so a huge number would print as null. */
function describe(value: unknown): string {
  if (typeof value === "number" && !Number.isFinite(value)) {
    return "a number too large to represent (such as 1e400)";
  }
  if (value === undefined) return "nothing";
  return JSON.stringify(value) ?? typeof value;
}
