import { expect, test } from "bun:test";
import { count } from "./count.ts";

test("a count takes the singular for exactly one", () => {
  expect(count(1, "token")).toBe("1 token");
  expect(count(0, "token")).toBe("0 tokens");
  expect(count(7, "file")).toBe("7 files");
  expect(count(2, "entry", "entries")).toBe("2 entries");
});
