import { defineCommand } from "citty";
import { type Connection, Socket2WebError } from "../index.ts";
import {
  type ProxyEndpointOptions,
  proxyEndpointFlags,
  toProxyEndpointOptions,
} from "./client-options.ts";
import {
  connectThroughProxy,
  sessionUrl,
  type WebSocketFactory,
  webSocketFactory,
} from "./client-socket.ts";
import { assertKnownFlags } from "./known-flags.ts";
import { closeWhenQuiet } from "./linger.ts";
import { explainFailure } from "./refusal.ts";

export const connectArgs = proxyEndpointFlags;

/** What `--help` adds to the flags: the ones `connect` cannot run without, and examples. */
export const CONNECT_REQUIRED = ["server", "target"] as const;
export const CONNECT_EXAMPLES = [
  "echo PING | socket2web connect --server ws://proxy:8080 --target redis.internal:6379",
  "ssh -o ProxyCommand='socket2web connect --server wss://proxy:8443 --target %h:%p --linger 0' db.internal",
  "socket2web connect --server ws://proxy:8080 --target unix:/run/app.sock < request.bin",
];

/** Exit statuses of `connect`: 0 after a normal close, 1 for any failure, 130 when interrupted. */
export const ConnectExit = { ok: 0, failed: 1, interrupted: 130 } as const;

export interface ConnectIo {
  stdin: ReadableStream<Uint8Array>;
  stdout: NodeJS.WritableStream;
  /** Where the one line of a failure goes. */
  fail(line: string): void;
}

/** stdin → target, target → stdout. Resolves with the exit status. */
export async function runConnect(
  options: ProxyEndpointOptions,
  webSocket: WebSocketFactory,
  io: ConnectIo,
): Promise<number> {
  let connection: Connection;
  try {
    connection = await connectThroughProxy(options, webSocket);
  } catch (error) {
    io.fail(`connect: ${await explainFailure(options, sessionUrl(options), error)}`);
    return ConnectExit.failed;
  }

  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    connection.close(1000, "client interrupted");
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  void sendStdin(connection, io.stdin, options.lingerMs);
  const failure = await copyToStdout(connection, io.stdout);
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  if (failure !== undefined) {
    io.fail(`connect: ${describeError(failure)}`);
    return ConnectExit.failed;
  }
  return interrupted ? ConnectExit.interrupted : ConnectExit.ok;
}

async function sendStdin(
  connection: Connection,
  stdin: ReadableStream<Uint8Array>,
  lingerMs: number,
) {
  const writer = connection.writable.getWriter();
  try {
    // Awaiting each write is the backpressure: stdin is read only as fast as the proxy takes it.
    for await (const chunk of stdin) await writer.write(chunk);
    await writer.close();
  } catch {
    return; // The connection closed; copyToStdout reports why.
  }
  await closeWhenQuiet(connection, lingerMs);
}

/** Copies until the connection ends; returns the failure, if it did not end normally. */
async function copyToStdout(
  connection: Connection,
  stdout: NodeJS.WritableStream,
): Promise<unknown> {
  let stdoutError: Error | undefined;
  const onError = (error: Error) => {
    stdoutError = error;
    connection.close(1000, "client output closed");
  };
  stdout.on("error", onError);
  try {
    for await (const chunk of connection.readable) {
      if (stdoutError) break;
      if (!stdout.write(chunk)) await waitForDrain(stdout, () => stdoutError !== undefined);
    }
    // Everything is written once the callback of an empty write runs.
    await new Promise<void>((resolve) => stdout.write(new Uint8Array(0), () => resolve()));
  } catch (error) {
    return error;
  } finally {
    stdout.off("error", onError);
  }
  return stdoutError ? new Error(`stdout: ${stdoutError.message}`) : undefined;
}

function waitForDrain(stdout: NodeJS.WritableStream, failed: () => boolean): Promise<void> {
  return new Promise<void>((resolve) => {
    if (failed()) return resolve();
    const done = () => {
      stdout.off("drain", done);
      stdout.off("error", done);
      resolve();
    };
    stdout.on("drain", done);
    stdout.on("error", done);
  });
}

function describeError(error: unknown): string {
  if (error instanceof Socket2WebError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

export const connectCommand = defineCommand({
  meta: {
    name: "connect",
    description: "Pipe stdin to the target and the target to stdout through the proxy, like nc",
  },
  args: connectArgs,
  async run({ args, rawArgs }) {
    assertKnownFlags(rawArgs, connectArgs);
    const options = toProxyEndpointOptions(args, process.env, rawArgs);
    const status = await runConnect(options, webSocketFactory(options), {
      stdin: Bun.stdin.stream(),
      stdout: process.stdout,
      fail: (line) => process.stderr.write(`${line}\n`),
    });
    process.exit(status);
  },
});
