import { expect, test } from "bun:test";
import { combineHooks, type SessionHooks } from "./hooks.ts";

test("a hook with one listener is that listener; one with none is absent", () => {
  const released = () => {};
  const combined = combineHooks([{ released }, { closed: undefined }, {}]);
  expect(combined.released).toBe(released);
  expect(combined.closed).toBeUndefined();
  expect(combined.toTarget).toBeUndefined();
});

test("a hook with several listeners calls each, in the order of the list", () => {
  const calls: string[] = [];
  const list: SessionHooks[] = [
    { toTarget: (chunk) => calls.push(`a ${chunk.byteLength}`), released: () => calls.push("a") },
    { released: () => calls.push("b") },
    { toTarget: (chunk) => calls.push(`c ${chunk.byteLength}`), released: () => calls.push("c") },
  ];
  const combined = combineHooks(list);
  combined.released?.();
  combined.toTarget?.(new Uint8Array(3));
  expect(calls).toEqual(["a", "b", "c", "a 3", "c 3"]);
});
