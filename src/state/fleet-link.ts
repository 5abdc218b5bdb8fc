import type { RedisClient } from "bun";
import type { Logger } from "../log/logger.ts";
import { redisConnection } from "./redis-connection.ts";
import type { Revocations } from "./revocations.ts";

/** How long a question to the fleet waits for the instances that heard it. */
export const FLEET_ANSWER_TIMEOUT_MS = 2000;

/** One instance's answer to a question asked of the fleet. */
export interface FleetAnswer {
  readonly instance: string;
  readonly result: unknown;
}

export interface FleetAnswers {
  readonly answers: readonly FleetAnswer[];
  /** Instances that heard the question and did not answer in time. */
  readonly unanswered: number;
}

/**
 * This process's place in the fleet: it answers questions published on the fleet's channel with
 * `answer`, and asks every instance (itself included) with `ask`.
 */
export interface FleetLink {
  /** This process's name in the fleet (`HOST:PID`). */
  readonly instance: string;
  /**
   * Publishes `question` to every instance and gathers their answers until all that heard it
   * answered, `enough` says so, or FLEET_ANSWER_TIMEOUT_MS passed. Throws when Redis is unreachable.
   */
  ask(
    question: unknown,
    enough?: (answers: readonly FleetAnswer[]) => boolean,
  ): Promise<FleetAnswers>;
  /** Answers the fleet's questions from now on (before it, they are answered with an error). */
  serve(answer: (question: unknown) => Promise<unknown>): void;
  /** Records a revocation in the store, for instances that start or reconnect later. */
  revoke(name: string, untilMs: number): Promise<void>;
  close(): void;
}

export interface FleetLinkOptions {
  readonly url: string;
  readonly ca?: string | undefined;
  readonly instance: string;
  readonly prefix: string;
  readonly logger: Logger;
  /** This process's revocations: filled from the store on each (re)connection. */
  readonly revocations: Revocations;
}

interface Pending {
  readonly answers: FleetAnswer[];
  expected: number;
  readonly enough: ((answers: readonly FleetAnswer[]) => boolean) | undefined;
  readonly settle: () => void;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null;

/**
 * The fleet's questions and answers over Redis pub/sub: questions on `PREFIX:control`, answers on
 * `PREFIX:reply:INSTANCE`. PUBLISH says how many instances heard a question, so the asker knows
 * how many answers to wait for. Two connections: a subscribed one cannot send other commands.
 */
export function fleetLink(options: FleetLinkOptions): FleetLink {
  const { instance, prefix, logger } = options;
  const control = `${prefix}:control`;
  const replyTo = (name: string) => `${prefix}:reply:${name}`;
  const revokedKey = `${prefix}:revoked`;
  const pending = new Map<string, Pending>();
  let nextQuestion = 1;
  let listening = false;
  let answer = async (_question: unknown): Promise<unknown> => {
    throw new Error(`${instance} is starting`);
  };

  const loadRevocations = async (redis: RedisClient) => {
    // RESP3: a hash comes back as an object (verified on Bun 1.4.5).
    const stored = (await redis.send("HGETALL", [revokedKey])) as Record<string, string> | null;
    const pairs = Object.entries(stored ?? {});
    const now = Date.now();
    const over: string[] = [];
    for (const [name, until] of pairs) {
      const at = Number(until);
      if (at > now) options.revocations.revoke(name, at);
      else over.push(name);
    }
    if (over.length > 0) await redis.send("HDEL", [revokedKey, ...over]);
  };
  const publisher = redisConnection({
    url: options.url,
    ca: options.ca,
    prepare: (redis) => publisher.timed(loadRevocations(redis)),
  });

  const answerQuestion = async (message: Record<string, unknown>) => {
    const from = message.from;
    const id = message.id;
    if (typeof from !== "string" || typeof id !== "string") return;
    let result: unknown;
    try {
      result = await answer(message.question);
    } catch (error) {
      result = { error: (error as Error).message };
    }
    const redis = publisher.current();
    await redis
      ?.send("PUBLISH", [replyTo(from), JSON.stringify({ id, instance, result })])
      .catch(() => undefined);
  };

  const received = (text: string) => {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (!isObject(message)) return;
    if ("question" in message) {
      void answerQuestion(message);
      return;
    }
    const waiting = typeof message.id === "string" ? pending.get(message.id) : undefined;
    if (!waiting || typeof message.instance !== "string") return;
    waiting.answers.push({ instance: message.instance, result: message.result });
    if (waiting.answers.length >= waiting.expected || waiting.enough?.(waiting.answers)) {
      waiting.settle();
    }
  };
  const subscriber = redisConnection({
    url: options.url,
    ca: options.ca,
    async prepare(redis) {
      await subscriber.timed(redis.subscribe(control, (text) => received(String(text))));
      await subscriber.timed(redis.subscribe(replyTo(instance), (text) => received(String(text))));
      // Revocations published while this subscription was down are in the store.
      const store = publisher.current();
      if (store) await publisher.timed(loadRevocations(store)).catch(() => undefined);
    },
    up() {
      if (!listening) logger.debug("state: listening for the fleet's questions");
      listening = true;
    },
    down() {
      listening = false;
    },
  });

  return {
    instance,
    async ask(question, enough) {
      const redis = publisher.current();
      if (!redis || !listening) {
        throw new Error("the shared state (Redis) is unreachable: the fleet cannot be asked");
      }
      const id = `${instance}#${nextQuestion++}`;
      const done = Promise.withResolvers<void>();
      const waiting: Pending = {
        answers: [],
        expected: Number.POSITIVE_INFINITY,
        enough,
        settle: () => done.resolve(),
      };
      pending.set(id, waiting);
      const timer = setTimeout(() => done.resolve(), FLEET_ANSWER_TIMEOUT_MS);
      try {
        const heard = await publisher.timed(
          redis.send("PUBLISH", [control, JSON.stringify({ id, from: instance, question })]),
        );
        waiting.expected = Number(heard);
        if (waiting.answers.length >= waiting.expected) done.resolve();
        await done.promise;
      } finally {
        clearTimeout(timer);
        pending.delete(id);
      }
      const expected = Number.isFinite(waiting.expected) ? waiting.expected : 0;
      return {
        answers: waiting.answers,
        unanswered: Math.max(0, expected - waiting.answers.length),
      };
    },
    serve(handler) {
      answer = handler;
    },
    async revoke(name, untilMs) {
      const redis = publisher.current();
      if (!redis) {
        throw new Error("the shared state (Redis) is unreachable: the revocation cannot be stored");
      }
      await publisher.timed(redis.send("HSET", [revokedKey, name, String(untilMs)]));
    },
    close() {
      publisher.close();
      subscriber.close();
    },
  };
}
