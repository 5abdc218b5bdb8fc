// Runs the load client (client/main.ts) as a separate process and collects its RESULT lines.
import type { ClientJob } from "../client/main.ts";
import { spawnTracked, type Tracked } from "../lib/procs.ts";
import { BUN, ROOT } from "../rows/row.ts";

export function spawnClient(job: ClientJob): Tracked {
  return spawnTracked("client", [BUN, "run", `${ROOT}bench/client/main.ts`, JSON.stringify(job)]);
}

export function resultLines(output: string): Record<string, unknown>[] {
  return output
    .split("\n")
    .filter((line) => line.startsWith("RESULT "))
    .map((line) => JSON.parse(line.slice("RESULT ".length)) as Record<string, unknown>);
}

/** Waits for the client to exit (at most `timeoutMs`), then returns its results. */
export async function runClient(
  job: ClientJob,
  timeoutMs: number,
): Promise<Record<string, unknown>[]> {
  const client = spawnClient(job);
  const exited = await Promise.race([
    client.proc.exited.then(() => true),
    Bun.sleep(timeoutMs).then(() => false),
  ]);
  await client.stop(500);
  const results = resultLines(client.output());
  if (!exited) results.push({ error: `client killed after ${timeoutMs} ms` });
  else if (results.length === 0)
    results.push({ error: `client printed nothing: ${client.output().slice(-500)}` });
  return results;
}
