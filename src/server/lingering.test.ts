import { expect, test } from "bun:test";
import { createLingerCount } from "./lingering.ts";

test("each close counts until its linger is over", () => {
  let time = 0;
  const lingering = createLingerCount(100, () => time);
  lingering.add();
  time = 50;
  lingering.add();
  expect(lingering.count()).toBe(2);
  time = 100;
  expect(lingering.count()).toBe(1);
  time = 150;
  expect(lingering.count()).toBe(0);
});

test("many closes over time keep only the live ones", () => {
  let time = 0;
  const lingering = createLingerCount(10, () => time);
  for (let i = 0; i < 5000; i++) {
    time = i;
    lingering.add();
  }
  expect(lingering.count()).toBe(10);
});
