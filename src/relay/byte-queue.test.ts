import { expect, test } from "bun:test";
import { ByteQueue, COALESCE_BYTES } from "./byte-queue.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

/** Drains everything, one array of bytes per write. */
function drainAll(queue: ByteQueue): number[][] {
  const writes: number[][] = [];
  queue.drainInto((chunk) => {
    writes.push([...chunk]);
    return chunk.byteLength;
  });
  return writes;
}

test("a partial write keeps the rest, in order, for the next drain", () => {
  const queue = new ByteQueue();
  queue.push(bytes(1, 2, 3));
  queue.push(bytes(4));
  const taken: number[][] = [];
  queue.drainInto((chunk) => {
    taken.push([...chunk]);
    return 2;
  });
  // The two small chunks were offered as one write, which took two bytes.
  expect(taken).toEqual([[1, 2, 3, 4]]);
  expect(queue.bytes).toBe(2);
  queue.push(bytes(5));
  expect(drainAll(queue)).toEqual([[3, 4, 5]]);
  expect(queue.isEmpty).toBe(true);
});

test("small chunks go out in one write; a chunk that would pass the limit starts the next", () => {
  const queue = new ByteQueue();
  const big = new Uint8Array(COALESCE_BYTES - 1).fill(9);
  queue.push(bytes(1));
  queue.push(bytes(2, 3));
  queue.push(big);
  queue.push(bytes(4));
  const writes = drainAll(queue);
  expect(writes.map((write) => write.length)).toEqual([3, COALESCE_BYTES]);
  expect(writes[0]).toEqual([1, 2, 3]);
  expect(writes[1]?.at(-1)).toBe(4);
  expect(queue.bytes).toBe(0);
});

test("a chunk at the limit or above is offered as it is, not copied", () => {
  const queue = new ByteQueue();
  const large = new Uint8Array(COALESCE_BYTES);
  queue.push(large);
  queue.push(bytes(1));
  const offered: Uint8Array[] = [];
  queue.drainInto((chunk) => {
    offered.push(chunk);
    return chunk.byteLength;
  });
  expect(offered[0]).toBe(large);
  expect(offered.map((chunk) => chunk.byteLength)).toEqual([COALESCE_BYTES, 1]);
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
