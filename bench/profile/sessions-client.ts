// The profiling tools' load: one client process opens `count` sessions (handshake + 1 KiB echo,
// 256 handshakes in flight), holds them while `hold` runs, then closes them.
import type { ClientJob } from "../client/main.ts";
import { spawnTracked } from "../lib/procs.ts";
import { BUN, ROOT } from "../rows/row.ts";

export interface SessionsOutcome {
  sessionsPerSecond: number;
  failures: number;
  established: number;
}

export async function runSessions(
  url: string,
  targetPort: number,
  count: number,
  hold?: () => unknown,
): Promise<SessionsOutcome> {
  const job: ClientJob = {
    kind: "sessions",
    endpoint: { dialect: "s2w", url, targetHost: "127.0.0.1", targetPort },
    sessions: {
      sessions: count,
      concurrency: 256,
      echoBytes: 1024,
      perSessionTimeoutMs: 10_000,
      phaseTimeoutMs: 60_000,
    },
  };
  const client = spawnTracked("client", [
    BUN,
    "run",
    `${ROOT}bench/client/main.ts`,
    JSON.stringify(job),
  ]);
  const line = await client.waitForLine((l) => l.startsWith("RESULT "), 90_000);
  await hold?.();
  client.send("close");
  await client.waitForLine((l) => l.startsWith("CLOSED"), 15_000).catch(() => "");
  await client.stop();
  return JSON.parse(line.slice(7)) as SessionsOutcome;
}
