import { expect, test } from "bun:test";
import { ByteQueue } from "./byte-queue.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

test("a partial write keeps the rest, in order, for the next drain", () => {
  const queue = new ByteQueue();
  queue.push(bytes(1, 2, 3));
  queue.push(bytes(4));
  const taken: number[] = [];
  queue.drainInto((chunk) => {
    taken.push(chunk[0] ?? -1);
    return 2;
  });
  expect(taken).toEqual([1]);
  expect(queue.bytes).toBe(2);
  const rest: number[] = [];
  queue.drainInto((chunk) => {
    rest.push(...chunk);
    return chunk.byteLength;
  });
  expect(rest).toEqual([3, 4]);
  expect(queue.isEmpty).toBe(true);
});

test("an empty queue offers nothing, and takes chunks again after a full drain", () => {
  const queue = new ByteQueue();
  let offered = 0;
  queue.drainInto(() => {
    offered++;
    return 0;
  });
  expect(offered).toBe(0);
  queue.push(bytes(1));
  queue.drainInto((chunk) => chunk.byteLength);
  queue.push(bytes(2, 3));
  queue.push(new Uint8Array(0));
  const seen: number[][] = [];
  queue.drainInto((chunk) => {
    seen.push([...chunk]);
    return chunk.byteLength;
  });
  expect(seen).toEqual([[2, 3]]);
  expect(queue.bytes).toBe(0);
});
