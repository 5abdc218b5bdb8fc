import { expect, test } from "bun:test";
import type { TargetConnection } from "../adapters/types.ts";
import { ProxyError } from "../protocol/errors.ts";
import { connectWithin } from "./connect.ts";

function fakeConnection(): TargetConnection & { destroyed: boolean } {
  return {
    destroyed: false,
    write: (chunk) => chunk.byteLength,
    pause() {},
    resume() {},
    end() {},
    destroy() {
      this.destroyed = true;
    },
  };
}

test("the first address that opens wins; a failed one is skipped", async () => {
  const tried: string[] = [];
  const good = fakeConnection();
  const connection = await connectWithin(
    5,
    ["127.0.0.3", "127.0.0.1"],
    async (address) => {
      tried.push(address);
      if (address === "127.0.0.3") throw new ProxyError("connect_failed", "refused");
      return good;
    },
    new AbortController(),
  );
  expect(connection).toBe(good);
  expect(tried).toEqual(["127.0.0.3", "127.0.0.1"]);
});

test("every address failing rejects with the last failure", async () => {
  const failing = connectWithin(
    5,
    ["127.0.0.1", "127.0.0.2"],
    async (address) => {
      throw new ProxyError("connect_failed", `refused ${address}`);
    },
    new AbortController(),
  );
  await expect(failing).rejects.toThrow("refused 127.0.0.2");
});

test("at the deadline the attempt's signal aborts and the connect is connect_timeout; a late socket is destroyed", async () => {
  const abort = new AbortController();
  const late = fakeConnection();
  let openLate: (c: TargetConnection) => void = () => {};
  let sawAbort = false;
  const pending = connectWithin(
    0.05,
    ["127.0.0.1"],
    (_address, signal) =>
      new Promise<TargetConnection>((resolve) => {
        signal.addEventListener("abort", () => {
          sawAbort = true;
        });
        openLate = resolve;
      }),
    abort,
  );
  const error = await pending.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ProxyError);
  expect((error as ProxyError).code).toBe("connect_timeout");
  expect(sawAbort).toBe(true);
  expect(abort.signal.aborted).toBe(true);
  openLate(late);
  await Promise.resolve();
  expect(late.destroyed).toBe(true);
});
