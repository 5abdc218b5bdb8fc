// Plain TCP client (direct and socat rows), with its own send queue driven by `drain`.
import type { Socket } from "bun";
import { type Conn, Inbox, SEND_BOUND } from "./conn.ts";

export function dialTcp(host: string, port: number, timeoutMs: number): Promise<Conn> {
  return new Promise<Conn>((resolve, reject) => {
    const inbox = new Inbox();
    const queue: Uint8Array[] = [];
    let queued = 0;
    let drainWaiters: (() => void)[] = [];
    let ended = false;
    let endReason = "";
    let resolveClosed: (reason: string) => void = () => {};
    const closed = new Promise<string>((r) => {
      resolveClosed = r;
    });
    const finish = (reason: string) => {
      if (ended) return;
      ended = true;
      endReason = reason;
      resolveClosed(reason);
      for (const wake of drainWaiters) wake();
      drainWaiters = [];
    };
    const timer = setTimeout(() => {
      finish("connect timeout");
      reject(new Error(`tcp connect to ${host}:${port} timed out`));
    }, timeoutMs);

    const flush = (socket: Socket<undefined>) => {
      while (queue.length > 0) {
        const head = queue[0] as Uint8Array;
        const written = socket.write(head);
        if (written < 0) {
          finish("write after close");
          return;
        }
        queued -= Math.max(0, written);
        if (written < head.byteLength) {
          queue[0] = head.subarray(written);
          return;
        }
        queue.shift();
      }
      const waiters = drainWaiters;
      drainWaiters = [];
      for (const wake of waiters) wake();
    };

    Bun.connect({
      hostname: host,
      port,
      socket: {
        open(socket) {
          clearTimeout(timer);
          socket.setNoDelay(true);
          const conn: Conn = {
            write(bytes) {
              if (ended) return;
              if (queue.length === 0) {
                const written = socket.write(bytes);
                if (written === bytes.byteLength) return;
                if (written < 0) {
                  finish("write after close");
                  return;
                }
                queue.push(bytes.subarray(written));
                queued += bytes.byteLength - written;
                return;
              }
              queue.push(bytes);
              queued += bytes.byteLength;
            },
            writable: () => queued < SEND_BOUND,
            whenWritable: () =>
              ended || queued < SEND_BOUND
                ? Promise.resolve()
                : new Promise<void>((wake) => drainWaiters.push(wake)),
            setReceiver: (receiver) => inbox.set(receiver),
            close() {
              socket.end();
              finish("closed by client");
            },
            closed,
            extensions: null,
          };
          resolve(conn);
        },
        data(_socket, data) {
          inbox.push(data);
        },
        drain(socket) {
          flush(socket);
        },
        end() {
          finish(endReason || "end of stream");
        },
        close(_socket, error) {
          finish(error ? `closed: ${error.message}` : "closed");
        },
        connectError(_socket, error) {
          clearTimeout(timer);
          finish(`connect error: ${error.message}`);
          reject(error);
        },
        error(_socket, error) {
          finish(`error: ${error.message}`);
        },
      },
    }).catch((error: unknown) => {
      clearTimeout(timer);
      reject(error instanceof Error ? error : new Error(String(error)));
    });
  });
}
