import type { Subprocess } from "bun";
import type { Logger } from "../log/logger.ts";
import { fatal } from "../process/exit.ts";
import { explainBindError } from "./bind-error.ts";
import type { ServerConfig } from "./config.ts";
import { WORKER_KILL_DEADLINE_MS } from "./shutdown.ts";

/** Set in a worker's environment to its number (1…N); a worker serves, it does not supervise. */
export const WORKER_ENV = "SOCKET2WEB_WORKER";

/** A worker that exits by itself this soon after it started failed to start: the supervisor gives up. */
const STARTUP_GRACE_MS = 3000;
/** A worker that fails later is restarted after this pause. */
const RESTART_DELAY_MS = 1000;

/** This program with the same arguments: the compiled binary, or Bun running the entry script. */
function sameCommand(): string[] {
  const [, script = "", ...args] = process.argv;
  const compiled = script.startsWith("/$bunfs/");
  return compiled ? [process.execPath, ...args] : [process.execPath, script, ...args];
}

/** This process is a worker started by a supervisor: its number, else undefined. */
export function workerId(env: Readonly<Record<string, string | undefined>>): string | undefined {
  return env[WORKER_ENV];
}

/** Each worker's share of a limit, so that all of them together stay within it. */
export function shareOf(limit: number, workers: number): number {
  return Math.max(1, Math.ceil(limit / workers));
}

/** What the supervisor's other parts (the metrics listener) need of it. */
export interface SupervisorHooks {
  /** Every IPC message a worker sends (the metrics exchange: src/metrics/aggregate.ts). */
  message?(workerId: number, message: unknown): void;
  /** The shutdown signal arrived: /readyz answers 503 from now on. */
  stopping?(): void;
}

/** The running workers by number; each can be sent an IPC message. */
export type RunningWorkers = ReadonlyMap<number, { send(message: unknown): unknown }>;

/**
 * Runs `config.workers` copies of this server on one port (SO_REUSEPORT) and supervises them:
 * signals are passed on (SIGTERM/SIGINT end them, SIGHUP reloads TLS), a worker that dies later is
 * restarted, and one that cannot start stops them all with its exit status.
 */
export async function superviseWorkers(
  config: ServerConfig,
  logger: Logger,
  hooks: SupervisorHooks = {},
): Promise<RunningWorkers> {
  // Bound once without SO_REUSEPORT, so that a port held by another program is reported as in
  // use instead of being shared with it.
  try {
    Bun.listen({ hostname: config.ip, port: config.port, socket: { data() {} } }).stop(true);
  } catch (error) {
    fatal(explainBindError(error, config));
  }

  const workers = new Map<number, Subprocess>();
  let stopping = false;
  const start = (id: number) => {
    const startedAt = performance.now();
    const proc = Bun.spawn(sameCommand(), {
      // The supervisor's environment carries its runtime settings (src/process/runtime-restart.ts),
      // so a worker starts with them and need not restart itself.
      env: { ...process.env, [WORKER_ENV]: String(id) },
      // The worker watches this pipe: it ends when the supervisor does (supervisor-link.ts).
      stdin: "pipe",
      stdout: "inherit",
      stderr: "inherit",
      // An IPC channel only when something listens to it (the metrics exchange).
      ...(hooks.message ? { ipc: (message: unknown) => hooks.message?.(id, message) } : {}),
    });
    workers.set(id, proc);
    void proc.exited.then((code) => {
      workers.delete(id);
      if (stopping) return;
      // Exiting by itself right away is a start-up failure (bind, bad files); a signal is not.
      if (proc.signalCode === null && performance.now() - startedAt < STARTUP_GRACE_MS) {
        logger.error(`worker ${id} could not start (exit ${code}): stopping`);
        stopAll("SIGTERM");
        void Promise.all([...workers.values()].map((other) => other.exited)).then(() =>
          process.exit(code || 1),
        );
        return;
      }
      logger.error(`worker ${id} exited with ${proc.signalCode ?? code}: restarting it`);
      setTimeout(() => {
        if (!stopping) start(id);
      }, RESTART_DELAY_MS);
    });
  };
  const stopAll = (signal: NodeJS.Signals) => {
    stopping = true;
    for (const proc of workers.values()) proc.kill(signal);
  };

  for (let id = 1; id <= config.workers; id++) start(id);
  logger.info(`socket2web supervising ${config.workers} workers on port ${config.port}`);

  process.on("SIGHUP", () => {
    for (const proc of workers.values()) proc.kill("SIGHUP");
  });
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    hooks.stopping?.();
    stopAll(signal);
    const killer = setTimeout(() => {
      for (const proc of workers.values()) proc.kill("SIGKILL");
    }, WORKER_KILL_DEADLINE_MS);
    await Promise.all([...workers.values()].map((proc) => proc.exited));
    clearTimeout(killer);
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  return workers;
}
