import { describe, expect, it } from "bun:test";
import { outboundHeld } from "./outbound.ts";

const limits = { high: 100, low: 10 };

describe("outboundHeld", () => {
  it.each([
    [100, false, false],
    [101, false, true],
    [50, true, true],
    [10, true, true],
    [9, true, false],
    [0, false, false],
  ])("%p bytes queued, held %p: %p", (buffered, holding, expected) => {
    expect(outboundHeld(buffered, holding, limits)).toBe(expected);
  });
});
