import { afterAll, beforeAll } from "bun:test";
import type { Subprocess } from "bun";
import { freePort } from "./ports.ts";

export interface RunningRedis {
  readonly port: number;
  stop(): Promise<void>;
}

export const REDIS_BINARIES = ["redis-server", "redis-cli", "redis-benchmark"] as const;

/** Which of the redis binaries are missing from PATH. */
export function missingRedisBinaries(): string[] {
  return REDIS_BINARIES.filter((name) => Bun.which(name) === null);
}

export interface RedisOptions {
  /** The port to listen on (to start one again where it was); default a free one. */
  readonly port?: number;
  /** More arguments: `--requirepass`, TLS files… With `--tls-port`, `port` is the TLS port. */
  readonly args?: readonly string[];
  readonly tls?: boolean;
}

/** A throwaway redis-server on a free loopback port: no persistence, no unix socket. */
export async function startRedis(options: RedisOptions = {}): Promise<RunningRedis> {
  const port = options.port ?? (await freePort());
  const proc: Subprocess<"ignore", "pipe", "pipe"> = Bun.spawn(
    [
      "redis-server",
      ...(options.tls ? ["--port", "0", "--tls-port", String(port)] : ["--port", String(port)]),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "no",
      ...(options.args ?? []),
    ],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  let text = "";
  const decoder = new TextDecoder();
  void (async () => {
    for await (const chunk of proc.stdout) text += decoder.decode(chunk, { stream: true });
  })();
  const deadline = Date.now() + 15_000;
  while (!text.includes("Ready to accept connections")) {
    if (Date.now() > deadline || proc.exitCode !== null) {
      proc.kill();
      throw new Error(`redis-server did not start on port ${port}:\n${text}`);
    }
    await Bun.sleep(10);
  }
  return {
    port,
    async stop() {
      proc.kill("SIGKILL");
      await proc.exited;
    },
  };
}

/**
 * A redis-server for one test file, started before its tests and stopped after them (none when
 * the binaries are missing: `missing` names them, for `describe.skipIf`).
 */
export function useRedis(): { readonly missing: readonly string[]; url(): string } {
  const missing = missingRedisBinaries();
  let redis: RunningRedis | undefined;
  beforeAll(async () => {
    if (missing.length === 0) redis = await startRedis();
  });
  afterAll(() => redis?.stop());
  return {
    missing,
    url: () => `redis://127.0.0.1:${(redis as RunningRedis).port}`,
  };
}
