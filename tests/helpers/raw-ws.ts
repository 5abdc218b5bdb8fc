import type { Socket } from "bun";

/**
 * A minimal RFC 6455 client over a raw Bun TCP socket, for the one thing a WebSocket object cannot
 * do: stop reading, so that the proxy sees a slow client.
 */
export interface RawWsClient {
  /** Payload bytes of binary frames received so far (text frames are kept in `texts`). */
  readonly binary: { bytes: number; chunks: Uint8Array[] };
  readonly texts: string[];
  readonly closeCode: () => number | undefined;
  sendText(text: string): void;
  /** Queues a binary frame (under 64 KiB); what the socket does not take now goes on drain. */
  sendBinary(payload: Uint8Array): void;
  /** Bytes queued that the socket has not taken yet (the server stopped reading). */
  unsent(): number;
  pause(): void;
  resume(): void;
  waitFor(condition: () => boolean, timeoutMs?: number): Promise<void>;
  end(): void;
  /** Drops the connection with a TCP reset, as a client that crashed or lost its network. */
  terminate(): void;
}

interface State {
  buffer: Uint8Array;
  upgraded: boolean;
  /** Frames the socket has not taken yet, oldest first. */
  unsent: Uint8Array[];
  /** Index of the first frame in `unsent` not wholly written. */
  head: number;
  unsentBytes: number;
}

/**
 * `onBinary` sees each binary payload; without it the payloads are kept in `binary.chunks`.
 * `path` is the upgrade's request target.
 */
export async function openRawClient(
  port: number,
  onBinary?: (payload: Uint8Array) => void,
  path = "/",
): Promise<RawWsClient> {
  const texts: string[] = [];
  const binary = { bytes: 0, chunks: [] as Uint8Array[] };
  let closeCode: number | undefined;
  const onFrame = (opcode: number, payload: Uint8Array) => {
    if (opcode === 1) texts.push(new TextDecoder().decode(payload));
    else if (opcode === 2 || opcode === 0) {
      binary.bytes += payload.byteLength;
      if (onBinary) onBinary(payload);
      else binary.chunks.push(payload);
    } else if (opcode === 8)
      closeCode =
        payload.byteLength >= 2 ? (payload[0] as number) * 256 + (payload[1] as number) : 1005;
  };
  const socket = await Bun.connect<State>({
    hostname: "127.0.0.1",
    port,
    data: { buffer: new Uint8Array(0), upgraded: false, unsent: [], head: 0, unsentBytes: 0 },
    socket: {
      drain: flush,
      data(socket, chunk) {
        const state = socket.data;
        state.buffer = state.buffer.byteLength ? Buffer.concat([state.buffer, chunk]) : chunk;
        if (!state.upgraded) {
          const end = Buffer.from(state.buffer).indexOf("\r\n\r\n");
          if (end < 0) return;
          state.upgraded = true;
          state.buffer = state.buffer.subarray(end + 4);
        }
        state.buffer = parseFrames(state.buffer, onFrame);
      },
    },
  });
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  return {
    binary,
    texts,
    closeCode: () => closeCode,
    sendText: (text) => writeFrame(socket, 1, new TextEncoder().encode(text)),
    sendBinary: (payload) => writeFrame(socket, 2, payload),
    unsent: () => socket.data.unsentBytes,
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    async waitFor(condition, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error("raw client: timed out");
        await Bun.sleep(5);
      }
    },
    end: () => socket.end(),
    terminate: () => socket.terminate(),
  };
}

function parseFrames(
  buffer: Uint8Array,
  onFrame: (opcode: number, payload: Uint8Array) => void,
): Uint8Array {
  let offset = 0;
  for (;;) {
    if (buffer.byteLength - offset < 2) break;
    const opcode = (buffer[offset] as number) & 0x0f;
    let length = (buffer[offset + 1] as number) & 0x7f;
    let header = 2;
    if (length === 126) {
      if (buffer.byteLength - offset < 4) break;
      length = ((buffer[offset + 2] as number) << 8) | (buffer[offset + 3] as number);
      header = 4;
    } else if (length === 127) {
      if (buffer.byteLength - offset < 10) break;
      length = Number(Buffer.from(buffer.subarray(offset + 2, offset + 10)).readBigUInt64BE());
      header = 10;
    }
    if (buffer.byteLength - offset < header + length) break;
    onFrame(opcode, buffer.subarray(offset + header, offset + header + length));
    offset += header + length;
  }
  return buffer.subarray(offset);
}

function writeFrame(socket: Socket<State>, opcode: number, payload: Uint8Array): void {
  const length = payload.byteLength;
  const header = length < 126 ? 2 : 4;
  if (length >= 65536) throw new Error("raw client frames are small");
  const frame = new Uint8Array(header + 4 + length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | Math.min(length, 126);
  if (header === 4) {
    frame[2] = length >> 8;
    frame[3] = length & 0xff;
  }
  const mask = crypto.getRandomValues(new Uint8Array(4));
  frame.set(mask, header);
  for (let i = 0; i < length; i++)
    frame[header + 4 + i] = (payload[i] as number) ^ (mask[i & 3] as number);
  socket.data.unsent.push(frame);
  socket.data.unsentBytes += frame.byteLength;
  if (socket.data.unsent.length - socket.data.head === 1) flush(socket);
}

/** Writes queued frames until the socket takes less than offered; the rest waits for drain. */
function flush(socket: Socket<State>): void {
  const state = socket.data;
  while (state.head < state.unsent.length) {
    const frame = state.unsent[state.head] as Uint8Array;
    const written = Math.max(0, socket.write(frame));
    state.unsentBytes -= written;
    if (written < frame.byteLength) {
      state.unsent[state.head] = frame.subarray(written);
      return;
    }
    state.head++;
  }
  state.unsent = [];
  state.head = 0;
}
