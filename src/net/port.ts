import { invalidHandshake } from "../protocol/errors.ts";

export function parsePort(value: unknown, field = "target_port"): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw invalidHandshake(
      `${field} must be an integer from 1 to 65535, got ${JSON.stringify(value) ?? typeof value}`,
    );
  }
  return value;
}
