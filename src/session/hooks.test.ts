import { expect, test } from "bun:test";
import { listenerOf, type SessionHooks } from "./hooks.ts";

test("a flow hook with one listener is that listener; one with none is absent", () => {
  const toTarget = () => {};
  const list: SessionHooks[] = [{ toTarget }, { fromTarget: undefined }, {}];
  expect(listenerOf(list, "toTarget")).toBe(toTarget);
  expect(listenerOf(list, "fromTarget")).toBeUndefined();
  expect(listenerOf(list, "targetDrained")).toBeUndefined();
});

test("a flow hook with several listeners calls each, in the order of the list", () => {
  const calls: string[] = [];
  const list: SessionHooks[] = [
    { toTarget: (chunk) => calls.push(`a ${chunk.byteLength}`) },
    { targetPaused: () => calls.push("b") },
    { toTarget: (chunk) => calls.push(`c ${chunk.byteLength}`) },
  ];
  listenerOf(list, "toTarget")?.(new Uint8Array(3));
  expect(calls).toEqual(["a 3", "c 3"]);
});
