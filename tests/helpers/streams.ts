/** Reads a byte stream to its end (bounded by `timeoutMs`) and returns everything. */
export async function readAll(
  readable: ReadableStream<Uint8Array>,
  timeoutMs = 10_000,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const reader = readable.getReader();
  const timer = setTimeout(() => void reader.cancel(new Error("readAll timed out")), timeoutMs);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks);
}

/** The part of a stream reader used here; Bun's and node:stream/web's reader types both fit. */
export interface ByteReader {
  read(): Promise<{ done: boolean; value?: Uint8Array | undefined }>;
}

/** Reads exactly `count` bytes (bounded by `timeoutMs`), leaving the stream open. */
export async function readExactly(
  reader: ByteReader,
  count: number,
  timeoutMs = 10_000,
): Promise<Uint8Array> {
  const out = new Uint8Array(count);
  let filled = 0;
  const deadline = Date.now() + timeoutMs;
  while (filled < count) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`read only ${filled} of ${count} bytes`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const result = await Promise.race([
      reader.read(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`read only ${filled} of ${count} bytes`)), left);
      }),
    ]);
    clearTimeout(timer);
    const { done, value } = result;
    if (done || !value) throw new Error(`stream ended after ${filled} of ${count} bytes`);
    if (filled + value.byteLength > count) throw new Error("more bytes than expected");
    out.set(value, filled);
    filled += value.byteLength;
  }
  return out;
}

/** Polls `check` until it is true or `timeoutMs` passes. */
export async function eventually(
  check: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/** Retries `attempt` (bounded in count and time) until it resolves true. */
export async function eventuallyAsync(
  attempt: () => Promise<boolean>,
  timeoutMs: number,
  what = "the condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 1000; i++) {
    if (await attempt()) return;
    if (Date.now() > deadline) break;
    await Bun.sleep(50);
  }
  throw new Error(`${what}: not reached within ${timeoutMs} ms`);
}
