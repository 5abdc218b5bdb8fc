import { describe, expect, test } from "bun:test";
import { Socket2WebError } from "./errors.ts";
import {
  createWritable,
  drainBelow,
  MAX_FRAME_BYTES,
  ReceiveQueue,
  type SendPort,
} from "./streams.ts";

function queue(highWaterMark: number) {
  const calls: string[] = [];
  const receive = new ReceiveQueue(
    {
      pause: () => calls.push("pause"),
      resume: () => calls.push("resume"),
      cancel: () => calls.push("cancel"),
    },
    highWaterMark,
  );
  return { receive, calls };
}

const bytes = (...values: number[]) => new Uint8Array(values);

describe("ReceiveQueue", () => {
  test("an error reaches the reader only after the bytes queued before it", async () => {
    const { receive } = queue(1024);
    receive.push(bytes(1, 2));
    receive.push(bytes(3));
    receive.end(new Socket2WebError("closed", "1011"));
    const reader = receive.readable.getReader();
    expect((await reader.read()).value).toEqual(bytes(1, 2));
    expect((await reader.read()).value).toEqual(bytes(3));
    await expect(reader.read()).rejects.toThrow("closed: 1011");
  });

  test("pauses at the high-water mark and resumes once the reader catches up", async () => {
    const { receive, calls } = queue(4);
    receive.push(bytes(1, 2));
    expect(calls).toEqual([]);
    receive.push(bytes(3, 4));
    expect(calls).toEqual(["pause"]);
    expect(receive.queuedBytes).toBe(4);
    const reader = receive.readable.getReader();
    await reader.read();
    expect(calls).toEqual(["pause", "resume"]);
    expect(receive.queuedBytes).toBe(2);
  });

  test("a pending read is answered by the next push, and end() closes", async () => {
    const { receive } = queue(1024);
    const reader = receive.readable.getReader();
    const pending = reader.read();
    receive.push(bytes(9));
    expect((await pending).value).toEqual(bytes(9));
    receive.end();
    expect(await reader.read()).toEqual({ done: true, value: undefined });
  });

  test("cancel asks the connection to close and drops the queue", async () => {
    const { receive, calls } = queue(1024);
    receive.push(bytes(1));
    await receive.readable.cancel();
    expect(calls).toContain("cancel");
    expect(receive.queuedBytes).toBe(0);
  });
});

/** A send port over a plain counter: `drain(n)` plays the network taking n bytes. */
function port() {
  let buffered = 0;
  let closed = false;
  const frames: number[] = [];
  const sendPort: SendPort = {
    send(frame) {
      frames.push(frame.byteLength);
      buffered += frame.byteLength;
    },
    bufferedAmount: () => buffered,
    closedError: () => (closed ? new Socket2WebError("closed", "gone") : undefined),
    abort() {
      closed = true;
    },
  };
  return {
    sendPort,
    frames,
    drain: (n: number) => {
      buffered = Math.max(0, buffered - n);
    },
    close: () => {
      closed = true;
    },
  };
}

describe("writable", () => {
  test("write() waits while bufferedAmount is above the high-water mark", async () => {
    const { sendPort, drain } = port();
    const writer = createWritable(sendPort, 10).getWriter();
    let done = false;
    const write = writer.write(new Uint8Array(20)).then(() => {
      done = true;
    });
    await Bun.sleep(30);
    expect(done).toBe(false);
    drain(10);
    await write;
    expect(done).toBe(true);
  });

  test("splits writes larger than one frame", async () => {
    const { sendPort, frames } = port();
    const writer = createWritable(sendPort, Number.POSITIVE_INFINITY).getWriter();
    await writer.write(new Uint8Array(MAX_FRAME_BYTES * 2 + 5));
    expect(frames).toEqual([MAX_FRAME_BYTES, MAX_FRAME_BYTES, 5]);
  });

  test("refuses anything but Uint8Array", async () => {
    const { sendPort } = port();
    const writer = createWritable(sendPort, 10).getWriter();
    await expect(writer.write("text" as unknown as Uint8Array)).rejects.toThrow(TypeError);
  });

  test("a close while waiting fails the wait", async () => {
    const { sendPort, close } = port();
    sendPort.send(new Uint8Array(100));
    const waiting = drainBelow(sendPort, 0);
    close();
    await expect(waiting).rejects.toThrow("closed: gone");
  });
});
