/** A real WebSocket client that records what it receives, for tests. */
export interface TestClient {
  readonly ws: WebSocket;
  /** The next message: text as a string, binary as bytes. */
  next(timeoutMs?: number): Promise<string | Uint8Array>;
  nextJson(timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Collects binary bytes until `count` bytes have arrived (or the socket closes). */
  readBytes(count: number, timeoutMs?: number): Promise<Uint8Array>;
  /** Every binary byte received so far that `next`/`readBytes` did not take. */
  readonly closed: Promise<{ code: number; reason: string }>;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}

/** Bun's WebSocket extensions: request headers, and TLS options such as a CA to trust. */
export interface ClientOptions {
  readonly headers?: Record<string, string>;
  readonly tls?: {
    readonly ca?: string;
    readonly rejectUnauthorized?: boolean;
    /** A client certificate and its key (PEM), for a server that asks for one. */
    readonly cert?: string;
    readonly key?: string;
  };
}

export async function openClient(
  url: string,
  protocols?: string | string[],
  options?: ClientOptions,
): Promise<TestClient> {
  const ws = options
    ? new WebSocket(url, { ...(protocols ? { protocols } : {}), ...options } as unknown as string[])
    : new WebSocket(url, protocols);
  ws.binaryType = "arraybuffer";
  const queue: (string | Uint8Array)[] = [];
  const waiters: (() => void)[] = [];
  const wake = () => {
    for (const waiter of waiters.splice(0)) waiter();
  };
  let closedInfo: { code: number; reason: string } | undefined;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.addEventListener("close", (event) => {
      closedInfo = { code: event.code, reason: event.reason };
      resolve(closedInfo);
      wake();
    });
  });
  ws.addEventListener("message", (event) => {
    queue.push(
      typeof event.data === "string" ? event.data : new Uint8Array(event.data as ArrayBuffer),
    );
    wake();
  });
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    // Bun's message names the HTTP status of a refused upgrade ("Expected 101 status code: 403").
    ws.addEventListener(
      "error",
      (event) =>
        reject(new Error(`WebSocket to ${url} failed: ${(event as ErrorEvent).message ?? ""}`)),
      { once: true },
    );
  });

  const waitFor = async (ready: () => boolean, timeoutMs: number, what: string) => {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      if (closedInfo && !ready()) {
        throw new Error(
          `closed (${closedInfo.code} ${closedInfo.reason}) while waiting for ${what}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };

  const client: TestClient = {
    ws,
    closed,
    async next(timeoutMs = 15_000) {
      await waitFor(() => queue.length > 0, timeoutMs, "a message");
      return queue.shift() as string | Uint8Array;
    },
    async nextJson(timeoutMs = 15_000) {
      const message = await client.next(timeoutMs);
      if (typeof message !== "string") throw new Error("expected a text frame, got binary");
      return JSON.parse(message) as Record<string, unknown>;
    },
    async readBytes(count, timeoutMs = 10_000) {
      const out = new Uint8Array(count);
      let filled = 0;
      while (filled < count) {
        await waitFor(() => queue.length > 0, timeoutMs, `${count - filled} more bytes`);
        const message = queue[0];
        if (typeof message === "string") throw new Error(`expected binary, got text ${message}`);
        if (!message) continue;
        const take = Math.min(message.byteLength, count - filled);
        out.set(message.subarray(0, take), filled);
        filled += take;
        if (take === message.byteLength) queue.shift();
        else queue[0] = message.subarray(take);
      }
      return out;
    },
    send(data) {
      ws.send(data);
    },
    close(code, reason) {
      ws.close(code, reason);
    },
  };
  return client;
}

/** The HTTP status in an `openClient` failure for a refused upgrade, if it names one. */
export function refusedUpgradeStatus(error: unknown): number | undefined {
  const status = /Expected 101 status code: (\d{3})/.exec(String(error))?.[1];
  return status === undefined ? undefined : Number(status);
}

/** Opens a client, checks the greeting, sends a TCP handshake and returns the client with its status. */
export async function connectThrough(
  url: string,
  handshake: Record<string, unknown>,
  options?: ClientOptions,
): Promise<{ client: TestClient; status: Record<string, unknown> }> {
  const client = await openClient(url, undefined, options);
  await client.nextJson();
  client.send(JSON.stringify(handshake));
  const status = await client.nextJson();
  return { client, status };
}
