import { expect, test } from "bun:test";
import { repeatedFlag } from "./repeated-flag.ts";

test("collects every occurrence in both spellings, stopping at --", () => {
  const raw = ["--header", "A: 1", "--target", "x:1", "--header=B: 2", "--", "--header", "C"];
  expect(repeatedFlag(raw, "header")).toEqual(["A: 1", "B: 2"]);
  expect(() => repeatedFlag(["--header"], "header")).toThrow("--header expects a value");
});
