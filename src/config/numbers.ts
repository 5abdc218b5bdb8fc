import { UsageError } from "./usage-error.ts";

const WHOLE_NUMBER = /^(0|[1-9][0-9]*)$/;

/**
 * A whole number within [min, max], or a UsageError that names where the value came from
 * (`--port`, `SOCKET2WEB_PORT`, `socket2web.toml: port`) and what it expects.
 */
export function parseWholeNumber(
  label: string,
  value: unknown,
  min: number,
  max: number,
  note = "",
): number {
  const expected = `a whole number from ${min} to ${max}${note}`;
  if (typeof value !== "string" || !WHOLE_NUMBER.test(value)) {
    throw new UsageError(`${label} expects ${expected}, got ${describe(value)}`);
  }
  const number = Number(value);
  if (number < min || number > max)
    throw new UsageError(`${label} expects ${expected}, got ${value}`);
  return number;
}

/** A value as messages show it: quoted, or "no value". */
export function describe(value: unknown): string {
  if (value === undefined || value === true || value === "") return "no value";
  return JSON.stringify(value);
}
