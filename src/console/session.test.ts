import { afterAll, expect, test } from "bun:test";
import { ConsoleSession, type LogEntry } from "./session.ts";

// A server that refuses every upgrade before it opens, as the proxy does for a refused Origin.
const refusing = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: () => new Response("403 Forbidden: origin http://x is not allowed\n", { status: 403 }),
});
afterAll(() => refusing.stop(true));

function closedSession(whyRefused?: () => Promise<string | undefined>) {
  const session = new ConsoleSession(
    `ws://127.0.0.1:${refusing.port}/`,
    { protocol: "tcp", fields: {} },
    whyRefused,
  );
  return new Promise<{ session: ConsoleSession; errors: string[] }>((resolve) => {
    const errors: string[] = [];
    session.listen({
      entry: (entry: LogEntry) => {
        if (entry.kind === "error") errors.push(entry.text ?? "");
        if (errors.includes("refused: because")) resolve({ session, errors });
      },
      state: (state) => {
        if (state === "closed" && !whyRefused) resolve({ session, errors });
      },
    });
  });
}

test("a session refused before it opened logs the refusal's reason as its failure", async () => {
  const { session, errors } = await closedSession(async () => "refused: because");
  expect(session.closeInfo?.code).toBe(1006);
  expect(session.failure).toEqual({ error: "refused", reason: "refused: because" });
  expect(errors.at(-1)).toBe("refused: because");
});

test("without a way to ask, the close code is all it says", async () => {
  const { session } = await closedSession();
  expect(session.closeInfo?.code).toBe(1006);
  expect(session.failure).toBeUndefined();
});
